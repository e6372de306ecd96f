import fastifyStatic from '@fastify/static';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

/**
 * The dashboard's static files (@fastify/static): everything in `public/` plus Chart.js from
 * node_modules (served by this server, no CDN: the page works offline). The files are listed
 * once at start and each gets its own route, so only those exact paths are served and no request
 * path ever reaches the file system. ETags and `cache-control: no-cache`: a browser revalidates
 * and gets 304 while a file is unchanged.
 */
export const PUBLIC_DIR = path.resolve(__dirname, '../public');
export const CHART_JS_PATH = '/vendor/chart.umd.min.js';

function chartJsDir(): string {
  // chart.js only exports its entry points; the UMD build sits next to the CommonJS one.
  return path.dirname(require.resolve('chart.js'));
}

export async function registerStatic(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    wildcard: false,
    index: ['index.html'],
    cacheControl: false,
    lastModified: false,
    setHeaders: (res) => {
      res.setHeader('cache-control', 'no-cache');
    },
  });
  const chartDir = chartJsDir();
  app.get(CHART_JS_PATH, { schema: { hide: true } }, (_request, reply) =>
    reply.sendFile(path.basename(CHART_JS_PATH), chartDir),
  );
}
