#include "service/core/topology.h"
