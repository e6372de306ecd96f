// Globals of the dashboard page (public/index.html) for the type check of public/js: Chart.js is
// loaded as a classic script (/vendor/chart.umd.min.js) before the modules.
import type { Chart as ChartJs } from 'chart.js';

declare global {
  const Chart: typeof ChartJs;
  interface Window {
    Chart?: typeof ChartJs;
  }
}
