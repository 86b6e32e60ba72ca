// Draws a report's chart from the JSON beside it; the table on the page carries the same figures.
const canvas = document.getElementById("report-chart");
const source = document.getElementById("report-chart-data");

if (canvas && source && window.Chart) {
  const chart = JSON.parse(source.textContent);
  const percent = (value) => `${value}%`;
  new window.Chart(canvas, {
    type: chart.kind,
    data: {
      labels: chart.labels,
      datasets: chart.datasets.map((series) => ({
        label: series.label,
        data: series.data,
        backgroundColor: series.colour,
        borderColor: series.colour,
        spanGaps: true,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      scales: {
        y: {
          beginAtZero: true,
          max: chart.percent ? 100 : undefined,
          ticks: chart.percent ? { callback: percent } : {},
        },
      },
      plugins: { legend: { display: chart.datasets.length > 1 } },
    },
  });
}
