import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The dashboard's static files, loaded into memory at start: everything in `public/` plus
 * Chart.js from node_modules (served by this server, no CDN: the page works offline). Only these
 * exact paths are served, so no request path ever reaches the file system.
 */
export interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

export const PUBLIC_DIR = path.resolve(__dirname, '../public');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

function chartJsFile(): string {
  // chart.js only exports its entry points; the UMD build sits next to the CommonJS one.
  return path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');
}

function walk(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const rel = `${base}/${name}`;
    if (statSync(full).isDirectory()) out.push(...walk(full, rel));
    else out.push(rel);
  }
  return out;
}

export function loadStaticFiles(publicDir = PUBLIC_DIR): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const add = (urlPath: string, file: string): void => {
    const body = readFileSync(file);
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    const etag = `"${statSync(file).mtimeMs.toString(36)}-${body.length.toString(36)}"`;
    files.set(urlPath, { body, contentType: type, etag });
  };
  for (const rel of walk(publicDir)) add(rel, path.join(publicDir, rel));
  add('/vendor/chart.umd.min.js', chartJsFile());
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}

/** The page's Content-Security-Policy: only this origin (its websocket included). */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";
