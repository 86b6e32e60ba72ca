// Draws a report's chart from the JSON beside it; the table on the page carries the same figures.
// A line needs two points: a chart whose series have fewer is drawn as bars, never a lone dot.
const canvas = document.getElementById("report-chart");
const source = document.getElementById("report-chart-data");

if (canvas && source && window.Chart) {
  const chart = JSON.parse(source.textContent);
  const percent = (value) => `${value}%`;
  const points = (series) => series.data.filter((value) => value !== null).length;
  const kind =
    chart.kind === "line" && chart.datasets.some((series) => points(series) < 2)
      ? "bar"
      : chart.kind;
  new window.Chart(canvas, {
    type: kind,
    data: {
      labels: chart.labels,
      datasets: chart.datasets.map((series) => ({
        label: series.label,
        data: series.data,
        backgroundColor: series.colour,
        borderColor: series.colour,
        pointRadius: 4,
        spanGaps: true,
        maxBarThickness: 80,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      // The box around the canvas sets the height (static/scss/mash.scss), so the chart fits
      // a phone as well as a desktop.
      maintainAspectRatio: !canvas.parentElement.classList.contains("mash-chart__canvas"),
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
