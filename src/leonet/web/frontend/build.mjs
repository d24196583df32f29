// Bundle the dashboard into ../static (served by leonet serve): esbuild, one IIFE, no CDN.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';

const out = new URL('../static/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
await build({ entryPoints: ['src/main.js'], bundle: true, minify: true, format: 'iife', target: 'es2020', outfile: out + 'app.js', logLevel: 'warning', legalComments: 'linked' });
copyFileSync('index.html', out + 'index.html');
copyFileSync('style.css', out + 'style.css');
writeFileSync(out + '.built', new Date().toISOString() + '\n');
