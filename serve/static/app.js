// The manager page's only script: submits the language selector on change and draws the daily chart as SVG.
// Everything is built with DOM calls and textContent; no HTML strings, so nothing from a ticket can run.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = { economic: "#1f77b4", time: "#ff7f0e", social: "#2ca02c", emotional: "#9467bd", abuse_risk: "#d62728" };

function svgElement(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) {
    element.setAttribute(key, String(value));
  }
  return element;
}

function drawChart(svg, data, names) {
  const width = 720, height = 220, left = 36, right = 10, top = 10, bottom = 28;
  const days = data.days;
  const peak = Math.max(1, ...days.flatMap((day) => data.labels.map((label) => day.labels[label])));
  const x = (index) => left + (index * (width - left - right)) / Math.max(1, days.length - 1);
  const y = (count) => top + (height - top - bottom) * (1 - count / peak);
  svg.replaceChildren();
  svg.appendChild(svgElement("line", { x1: left, y1: y(0), x2: width - right, y2: y(0), class: "axis" }));
  svg.appendChild(svgElement("line", { x1: left, y1: top, x2: left, y2: y(0), class: "axis" }));
  for (const count of [0, peak]) {
    const tick = svgElement("text", { x: left - 6, y: y(count) + 4, "text-anchor": "end", class: "tick" });
    tick.textContent = String(count);
    svg.appendChild(tick);
  }
  for (const index of [0, days.length - 1]) {
    const tick = svgElement("text", { x: x(index), y: height - 8, "text-anchor": index ? "end" : "start", class: "tick" });
    tick.textContent = days[index].date;
    svg.appendChild(tick);
  }
  const legend = document.getElementById("chart-legend");
  legend.replaceChildren();
  for (const label of data.labels) {
    const points = days.map((day, index) => `${x(index)},${y(day.labels[label])}`).join(" ");
    const line = svgElement("polyline", { points, fill: "none", stroke: COLORS[label] || "#555", "stroke-width": 2 });
    line.setAttribute("data-label", label);
    svg.appendChild(line);
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch swatch-${label}`;
    item.append(swatch, document.createTextNode(names[label] || label));
    legend.appendChild(item);
  }
}

async function loadChart() {
  const svg = document.getElementById("chart");
  if (!svg) return;
  const response = await fetch(svg.dataset.src, { credentials: "same-origin" });
  if (!response.ok) return;
  drawChart(svg, await response.json(), JSON.parse(svg.dataset.names));
  svg.setAttribute("data-drawn", "true");
}

document.addEventListener("DOMContentLoaded", () => {
  const selector = document.getElementById("manager-lang");
  if (selector) selector.addEventListener("change", () => selector.form.submit());
  loadChart();
});
