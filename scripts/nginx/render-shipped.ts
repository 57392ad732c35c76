// npm run nginx:render: writes every file of nginx/ from its site (scripts/nginx/sites.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSite } from './config.js';
import { SHIPPED_SITES } from './sites.js';

const NGINX_DIR = join(import.meta.dirname, '..', '..', 'nginx');

for (const site of SHIPPED_SITES) {
  writeFileSync(join(NGINX_DIR, `${site.name}.conf`), renderSite(site));
  console.log(`nginx/${site.name}.conf`);
}
