// Builds the dashboard into dist/: index.html, assets/app.js (one IIFE, so
// `sherpa report` can inline it) and assets/app.css. The C++ build embeds
// whatever is in dist/ (cmake/EmbedFiles.cmake).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });
await build({
  entryPoints: [join(here, 'src/main.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  outfile: join(dist, 'assets/app.js'),
  legalComments: 'none',
  logLevel: 'info',
});
copyFileSync(join(here, 'index.html'), join(dist, 'index.html'));
