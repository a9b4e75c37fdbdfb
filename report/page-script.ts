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
      var quantiles = c.kind === 'quantiles';
      var dist = c.kind === 'distribution' || quantiles;
      var unit = c.unit ? ' (' + c.unit + ')' : '';
      var dots = function (label, name, size) {
        return { stroke: color(name), fill: color(name), paths: function () { return null; }, label: label,
          points: { show: true, size: size, stroke: color(name), fill: color(name) } };
      };
      var series = [{ label: dist ? 'instance #' : 's' }];
      var columns = [c.x];
      if (quantiles) {
        // Each instance's quantiles, one above the other: min and max small, the median largest.
        var shades = ['--muted', '--accent', '--timeout', '--bad', '--muted'];
        var sizes = [4, 8, 6, 6, 4];
        c.series.forEach(function (s, i) {
          series.push(dots(s.label + unit, shades[i % shades.length], sizes[i % sizes.length]));
          columns.push(s.y);
        });
      } else {
        series.push(dots('value' + unit, '--accent', 6));
        columns.push(c.y);
      }
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
