/**
 * The script of the page, run after uPlot: draws each chart the report data lists into its
 * element. Plain ES2020 in a string: it runs in the reader's browser, not in Node. A chart
 * that cannot be drawn says so in its place instead of breaking the others.
 */
export const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var css = getComputedStyle(document.documentElement);
  var color = function (name) { return css.getPropertyValue(name).trim() || '#888'; };
  data.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el) return;
    try {
      var dist = c.kind === 'distribution';
      var unit = c.unit ? ' (' + c.unit + ')' : '';
      var points = { stroke: color('--accent'), fill: color('--accent'), paths: function () { return null; },
        points: { show: true, size: 6, stroke: color('--accent'), fill: color('--accent') }, label: 'value' + unit };
      var series = [{ label: dist ? 'instance #' : 's' }, points];
      var columns = [c.x, c.y];
      if (dist && typeof c.median === 'number') {
        series.push({ label: 'median', stroke: color('--timeout'), width: 1, dash: [4, 4], points: { show: false } });
        columns.push(c.x.map(function () { return c.median; }));
      }
      var width = Math.max(280, Math.min(520, el.parentElement.clientWidth - 20));
      new uPlot({
        title: c.title, width: width, height: 220, series: series,
        // Distributions: one column per instance, whole numbers only, half a column of margin.
        scales: { x: dist ? { time: false, range: function (u, lo, hi) { return [lo - 0.5, hi + 0.5]; } }
          : { time: false } },
        legend: { live: true },
        axes: [
          { label: dist ? 'instance (index in its group)' : 'seconds since the coordinator started',
            stroke: color('--muted'), grid: { stroke: color('--line') },
            incrs: dist ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] : undefined },
          { stroke: color('--muted'), grid: { stroke: color('--line') }, size: 84 },
        ],
      }, columns, el);
      el.setAttribute('data-drawn', 'true');
    } catch (err) {
      el.textContent = 'This chart could not be drawn: ' + err;
    }
  });
})();
`;
