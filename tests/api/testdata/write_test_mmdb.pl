#!/usr/bin/perl
# Writes a small GeoIP database (MaxMind DB format, GeoIP2-City layout) for the tests, with
# Debian's libmaxmind-db-writer-perl:
#   127.0.1.0/24 -> US, Seattle (47.61, -122.33)
#   127.0.2.0/24 -> BR, Sao Paulo (-23.55, -46.63)
#   127.0.5.0/24 -> DE, country only (no location)
# usage: write_test_mmdb.pl OUT.mmdb
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: $0 OUT.mmdb\n";
my %types = (
  country   => 'map', iso_code  => 'utf8_string',
  location  => 'map', latitude  => 'double', longitude => 'double',
  city      => 'map', names     => 'map', en => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
  ip_version               => 6,
  record_size              => 24,
  database_type            => 'dcdir-test-City',
  languages                => ['en'],
  description              => { en => 'dcdir test GeoIP database (loopback ranges)' },
  map_key_type_callback    => sub { $types{ $_[0] } },
  remove_reserved_networks => 0,   # 127.0.0.0/8 is reserved; the tests need it
  alias_ipv6_to_ipv4       => 1,
);
$tree->insert_network('127.0.1.0/24', {
  country => { iso_code => 'US' }, city => { names => { en => 'Seattle' } },
  location => { latitude => 47.61, longitude => -122.33 } });
$tree->insert_network('127.0.2.0/24', {
  country => { iso_code => 'BR' }, city => { names => { en => 'Sao Paulo' } },
  location => { latitude => -23.55, longitude => -46.63 } });
$tree->insert_network('127.0.5.0/24', { country => { iso_code => 'DE' } });
open(my $fh, '>:raw', $out) or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close($fh) or die "cannot write $out: $!\n";
