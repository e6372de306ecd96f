// @ts-check
// Chart.js charts (served from this server: /vendor/chart.umd.min.js). Updated in place so a
// live change animates instead of redrawing the page.
import { DAY_NAMES, int, money } from './format.js';

const STATUS_COLORS = { BOOKED: '#16a34a', CANCELLED: '#dc2626' };
const OTHER_COLORS = ['#3b5bdb', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#64748b'];

function statusColor(status, i) {
  return STATUS_COLORS[status] ?? OTHER_COLORS[i % OTHER_COLORS.length];
}

/** @param {string} id */
const canvas = (id) => /** @type {HTMLCanvasElement} */ (document.getElementById(id));

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

const baseOptions = () => ({
  responsive: true,
  maintainAspectRatio: false,
  animation: /** @type {false | { duration: number }} */ (reducedMotion() ? false : { duration: 300 }),
  plugins: { legend: { display: false } },
});

function moneyAxis() {
  return { beginAtZero: true, ticks: { callback: (v) => money(v) } };
}

export function createCharts() {
  Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = '#5f6b85';

  const revenueStatus = new Chart(canvas('chart-revenue-status'), {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'Revenue', data: [], backgroundColor: [], borderRadius: 6 }] },
    options: {
      ...baseOptions(),
      scales: { y: moneyAxis() },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (ctx) => money(ctx.raw) } },
      },
    },
  });

  const statusDist = new Chart(canvas('chart-status-dist'), {
    type: 'doughnut',
    data: { labels: [], datasets: [{ label: 'Bookings', data: [], backgroundColor: [], borderWidth: 2 }] },
    options: {
      ...baseOptions(),
      cutout: '60%',
      plugins: {
        legend: { display: true, position: 'right' },
        tooltip: { callbacks: { label: (ctx) => `${ctx.label}: ${int(ctx.raw)} bookings` } },
      },
    },
  });

  const timeChart = (id, labels) =>
    new Chart(canvas(id), {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'Bookings', data: [], backgroundColor: '#3b5bdb', borderRadius: 4, yAxisID: 'y' },
          {
            label: 'Revenue',
            data: [],
            type: 'line',
            borderColor: '#16a34a',
            backgroundColor: '#16a34a',
            pointRadius: 2,
            tension: 0,
            yAxisID: 'revenue',
          },
        ],
      },
      options: {
        ...baseOptions(),
        plugins: {
          legend: { display: true, position: 'top', align: 'end' },
          tooltip: {
            callbacks: {
              label: (ctx) =>
                ctx.dataset.yAxisID === 'revenue' ? `Revenue ${money(ctx.raw)}` : `${int(ctx.raw)} bookings`,
            },
          },
        },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 } },
          revenue: { ...moneyAxis(), position: 'right', grid: { drawOnChartArea: false } },
        },
      },
    });

  const hour = timeChart(
    'chart-hour',
    Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')),
  );
  const dow = timeChart('chart-dow', DAY_NAMES);

  return {
    /** by_status: [{status, bookings, revenue_cents}] */
    setStatus(byStatus) {
      const labels = byStatus.map((s) => s.status);
      const colors = byStatus.map((s, i) => statusColor(s.status, i));
      revenueStatus.data.labels = labels;
      revenueStatus.data.datasets[0].data = byStatus.map((s) => s.revenue_cents);
      revenueStatus.data.datasets[0].backgroundColor = colors;
      revenueStatus.update();
      statusDist.data.labels = labels;
      statusDist.data.datasets[0].data = byStatus.map((s) => s.bookings);
      statusDist.data.datasets[0].backgroundColor = colors;
      statusDist.update();
    },
    setTime(byHour, byDay) {
      hour.data.datasets[0].data = byHour.map((h) => h.bookings);
      hour.data.datasets[1].data = byHour.map((h) => h.revenue_cents);
      hour.update();
      dow.data.datasets[0].data = byDay.map((d) => d.bookings);
      dow.data.datasets[1].data = byDay.map((d) => d.revenue_cents);
      dow.update();
    },
  };
}
