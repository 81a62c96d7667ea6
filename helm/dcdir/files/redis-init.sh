#!/bin/sh
# Rendered by the chart (tpl). Writes /conf/redis.conf and /conf/sentinel.conf for this pod.
# The master is whatever the running sentinels say; on a fresh install, pod 0.
set -eu
{{- $r := .Values.redis.internal }}
FULLNAME="{{ include "dcdir.redis.fullname" . }}"
HEADLESS="{{ include "dcdir.redis.headless" . }}"
REPLICAS={{ int $r.replicas }}
MASTER_NAME="{{ $r.masterName }}"
REDIS_PORT={{ int $r.port }}
SENTINEL_PORT={{ int $r.sentinelPort }}

SELF="${POD_NAME}.${HEADLESS}"
PASSWORD="$(cat /run/secrets/redis/password)"
if [ -z "${PASSWORD}" ]; then
  echo "redis password file is empty" >&2
  exit 1
fi

MASTER=""
i=0
while [ "${i}" -lt "${REPLICAS}" ]; do
  peer="${FULLNAME}-${i}.${HEADLESS}"
  if [ "${peer}" != "${SELF}" ]; then
    answer="$(timeout 3 redis-cli -h "${peer}" -p "${SENTINEL_PORT}" --raw \
      sentinel get-master-addr-by-name "${MASTER_NAME}" 2>/dev/null | head -n 1 || true)"
    if [ -n "${answer}" ]; then
      MASTER="${answer}"
      break
    fi
  fi
  i=$((i + 1))
done
if [ -z "${MASTER}" ]; then
  MASTER="${FULLNAME}-0.${HEADLESS}"
fi
echo "pod ${SELF}: master is ${MASTER}" >&2

umask 077
cat >/conf/redis.conf <<CONF
port ${REDIS_PORT}
bind * -::*
protected-mode no
dir /data
requirepass "${PASSWORD}"
masterauth "${PASSWORD}"
replica-announce-ip ${SELF}
replica-announce-port ${REDIS_PORT}
maxmemory {{ $r.maxmemory }}
maxmemory-policy noeviction
min-replicas-to-write {{ int $r.minReplicasToWrite }}
min-replicas-max-lag {{ int $r.minReplicasMaxLag }}
{{- if $r.persistence.enabled }}
appendonly yes
{{- else }}
appendonly no
save ""
{{- end }}
CONF
if [ "${MASTER}" != "${SELF}" ]; then
  echo "replicaof ${MASTER} ${REDIS_PORT}" >>/conf/redis.conf
fi

cat >/conf/sentinel.conf <<CONF
port ${SENTINEL_PORT}
bind * -::*
protected-mode no
dir /conf
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip ${SELF}
sentinel announce-port ${SENTINEL_PORT}
sentinel monitor ${MASTER_NAME} ${MASTER} ${REDIS_PORT} {{ int $r.quorum }}
sentinel auth-pass ${MASTER_NAME} "${PASSWORD}"
sentinel down-after-milliseconds ${MASTER_NAME} {{ int $r.downAfterMilliseconds }}
sentinel failover-timeout ${MASTER_NAME} {{ int $r.failoverTimeout }}
sentinel parallel-syncs ${MASTER_NAME} 1
CONF
