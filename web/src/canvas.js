// A canvas that fills its container at the screen's pixel density and
// redraws when the container is resized.
export class Surface {
  constructor(container, onResize) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'surface';
    container.appendChild(this.canvas);
    this.ctx = this.canvas.getContext('2d');
    this.width = 0;
    this.height = 0;
    this.onResize = onResize;
    new ResizeObserver(() => this.fit()).observe(container);
    this.fit();
  }

  fit() {
    const r = this.canvas.parentElement.getBoundingClientRect();
    const w = Math.max(10, Math.floor(r.width));
    const h = Math.max(10, Math.floor(r.height));
    if (w === this.width && h === this.height) return false;
    const dpr = window.devicePixelRatio || 1;
    this.width = w;
    this.height = h;
    this.canvas.width = Math.floor(w * dpr);
    this.canvas.height = Math.floor(h * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (this.onResize) this.onResize();
    return true;
  }

  clear() {
    this.ctx.clearRect(0, 0, this.width, this.height);
  }

  // Mouse position in CSS pixels relative to the canvas.
  point(event) {
    const r = this.canvas.getBoundingClientRect();
    return [event.clientX - r.left, event.clientY - r.top];
  }
}

export function niceTicks(min, max, count) {
  if (!isFinite(min) || !isFinite(max)) return [];
  if (min === max) return [min];
  const step0 = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const norm = step0 / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}
