/*
 * Capacity charts in the admin: configures Chart.js (static/vendor/chartjs) for every
 * [data-capacity-chart] box. Points come from a json_script tag rendered with the page and,
 * when the range or period buttons are used, from the page's JSON history view. Sizes arrive
 * already scaled to one unit per chart (chosen by the page for the largest value) with their
 * human-readable text for tooltips. Axis labels are rounded here to the digits the tick step
 * needs, in the page's language ("14.2 MiB", never "14.200000000000003 MiB"). Words come from
 * the #capacity-strings json_script tag.
 */
(function () {
  "use strict";

  const strings = readJSON("capacity-strings") || {};
  const charts = new Map();

  // "label: value" in the page's language (a full-width colon in Chinese).
  function labelValue(label, value) {
    return (strings.labelValue || "%(label)s: %(value)s").replace("%(label)s", label).replace("%(value)s", value);
  }

  function readJSON(id) {
    const el = id && document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  // Tick values are sums of a float step: 13.6 + 0.2 is 13.799999999999999. The fewest decimals
  // (0 to 3) that write every tick of the axis exactly are the ones it needs.
  function axisDecimals(ticks) {
    const values = (ticks || []).map((t) => t.value).filter((v) => Number.isFinite(v));
    for (let decimals = 0; decimals < 3; decimals++) {
      const scale = 10 ** decimals;
      if (values.every((v) => Math.abs(Math.round(v * scale) - v * scale) < 1e-6)) return decimals;
    }
    return 3;
  }

  const numberFormats = new Map();
  function axisNumber(value, decimals) {
    const locale = document.documentElement.lang || undefined;
    const key = `${locale}|${decimals}`;
    if (!numberFormats.has(key)) {
      numberFormats.set(key, new Intl.NumberFormat(locale, { maximumFractionDigits: decimals }));
    }
    return numberFormats.get(key).format(value);
  }

  function axisLabel(value, ticks, unit) {
    return `${axisNumber(value, axisDecimals(ticks))} ${unit}`;
  }

  function cssVar(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function palette() {
    return [
      cssVar("--secondary", "#417690"),
      "#e0a800",
      "#2e7d32",
      "#c62828",
      "#6f42c1",
      "#0097a7",
      "#8d6e63",
      "#ef6c00",
    ];
  }

  function withAlpha(color, alpha) {
    const hex = color.replace("#", "");
    if (hex.length !== 6) return color;
    const n = parseInt(hex, 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }

  function datasetsFor(kind, payload) {
    const colors = palette();
    return payload.datasets.map((d, i) => {
      if (kind === "doughnut") {
        return {
          label: d.label,
          data: d.values,
          human: d.human,
          backgroundColor: d.values.map((_v, j) => colors[j % colors.length]),
          borderWidth: 1,
        };
      }
      const color = colors[i % colors.length];
      return {
        label: d.label,
        data: d.values,
        human: d.human,
        borderColor: color,
        backgroundColor: withAlpha(color, 0.15),
        fill: true,
        tension: 0.25,
        spanGaps: true,
        borderWidth: 2,
        pointRadius: payload.labels.length > 60 ? 0 : 2,
        pointHoverRadius: 4,
      };
    });
  }

  function configFor(kind, payload, state) {
    const textColor = cssVar("--body-quiet-color", "#666");
    const gridColor = cssVar("--hairline-color", "#e8e8e8");
    const tooltip = {
      callbacks: {
        label: (ctx) => labelValue(ctx.dataset.label || ctx.label, ctx.dataset.human[ctx.dataIndex]),
      },
    };
    if (kind === "doughnut") {
      return {
        type: "doughnut",
        data: { labels: payload.labels, datasets: datasetsFor(kind, payload) },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: {
            legend: { position: "right", labels: { color: textColor } },
            tooltip: {
              callbacks: { label: (ctx) => labelValue(ctx.label, ctx.dataset.human[ctx.dataIndex]) },
            },
          },
        },
      };
    }
    return {
      type: "line",
      data: { labels: payload.labels, datasets: datasetsFor(kind, payload) },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: false }, tooltip },
        scales: {
          x: { ticks: { color: textColor, maxTicksLimit: 10, autoSkip: true }, grid: { color: gridColor } },
          y: {
            beginAtZero: false,
            ticks: { color: textColor, callback: (value, _index, ticks) => axisLabel(value, ticks, state.unit) },
            grid: { color: gridColor },
          },
        },
      },
    };
  }

  function showEmpty(box, payload) {
    const empty = !payload.labels.length;
    const note = box.querySelector("[data-chart-empty]");
    if (note) note.hidden = !empty;
    box.querySelector("canvas").style.visibility = empty ? "hidden" : "visible";
  }

  function render(box, payload) {
    const kind = box.dataset.chartKind || "line";
    let state = charts.get(box);
    if (!state) {
      state = { unit: payload.unit, chart: null };
      charts.set(box, state);
    }
    state.unit = payload.unit;
    if (state.chart) {
      state.chart.data.labels = payload.labels;
      state.chart.data.datasets = datasetsFor(kind, payload);
      state.chart.update();
    } else {
      state.chart = new window.Chart(box.querySelector("canvas"), configFor(kind, payload, state));
    }
    showEmpty(box, payload);
  }

  function setPressed(box, attribute, value) {
    box.querySelectorAll(`[${attribute}]`).forEach((button) => {
      button.setAttribute("aria-pressed", String(button.getAttribute(attribute) === value));
    });
  }

  async function load(box) {
    const url = new URL(box.dataset.historyUrl, window.location.href);
    url.searchParams.set("range", box.dataset.range);
    url.searchParams.set("period", box.dataset.period);
    if (box.dataset.database) url.searchParams.set("database", box.dataset.database);
    const spinner = box.querySelector("[data-chart-spinner]");
    const error = box.querySelector("[data-chart-error]");
    if (spinner) spinner.hidden = false;
    if (error) error.hidden = true;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      let payload = null;
      try {
        payload = await response.json();
      } catch (_e) {
        payload = null;
      }
      if (!response.ok || !payload || payload.success === false) {
        const message =
          (payload && payload.error) || (strings.badResponse || "HTTP %(status)s").replace("%(status)s", response.status);
        throw new Error(message);
      }
      render(box, payload);
    } catch (exc) {
      if (error) {
        error.textContent = exc.message || strings.failed || "";
        error.hidden = false;
      }
    } finally {
      if (spinner) spinner.hidden = true;
    }
  }

  function wire(box) {
    const initial = readJSON(box.dataset.chartData);
    if (initial) render(box, initial);
    box.addEventListener("click", (event) => {
      const rangeButton = event.target.closest("[data-range-choice]");
      const periodButton = event.target.closest("[data-period-choice]");
      if (rangeButton) {
        box.dataset.range = rangeButton.dataset.rangeChoice;
        setPressed(box, "data-range-choice", box.dataset.range);
        load(box);
      } else if (periodButton) {
        box.dataset.period = periodButton.dataset.periodChoice;
        setPressed(box, "data-period-choice", box.dataset.period);
        load(box);
      }
    });
  }

  // A database name in a table opens its own history in the chart box the link names.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-database-chart]");
    if (!link) return;
    const box = document.getElementById(link.dataset.databaseChart);
    if (!box) return;
    event.preventDefault();
    box.dataset.database = link.dataset.database;
    const title = box.querySelector("[data-chart-title]");
    if (title && strings.historyOf) title.textContent = strings.historyOf.replace("%(name)s", link.dataset.database);
    document.querySelectorAll("[data-database-row]").forEach((row) => {
      row.classList.toggle("capacity-selected", row.dataset.databaseRow === link.dataset.database);
    });
    box.hidden = false;
    load(box).then(() => box.scrollIntoView({ behavior: "smooth", block: "nearest" }));
  });

  // After a sync from this page, redraw the charts with the new point.
  document.addEventListener("capacity:synced", () => {
    charts.forEach((_state, box) => {
      if (box.dataset.historyUrl && !box.hidden) load(box);
    });
  });

  function start() {
    if (!window.Chart) {
      document.querySelectorAll("[data-chart-error]").forEach((el) => {
        el.textContent = strings.failed || "";
        el.hidden = false;
      });
      return;
    }
    document.querySelectorAll("[data-capacity-chart]").forEach(wire);
  }

  // For the browser tests: the axis label of a value among an axis's tick values.
  window.capacityAxisLabel = (value, values, unit) => axisLabel(value, values.map((v) => ({ value: v })), unit);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
