// The controls both pages share: first, previous, play/pause, next, last, the slider, and
// the keys (→ next, ← previous, Home first, End last). stepThrough(last, draw, interval)
// wires them to draw(k), the page's picture of step k, and shows step 0.
"use strict";
function stepThrough(last, draw, interval) {
  const byId = (id) => document.getElementById(id);
  const slider = byId("slider");
  const playButton = byId("play");
  let current = 0;
  let timer = null;

  function show(k) {
    current = Math.max(0, Math.min(last, k));
    draw(current);
    slider.value = String(current);
    byId("first").disabled = byId("previous").disabled = current === 0;
    byId("next").disabled = byId("last").disabled = current === last;
  }

  function pause() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    playButton.textContent = "▶ play";
  }

  function play() {
    if (current === last) show(0);
    playButton.textContent = "‖ pause";
    timer = setInterval(() => {
      if (current >= last) pause();
      else show(current + 1);
    }, interval);
  }

  const go = (k) => () => { pause(); show(k()); };
  byId("first").addEventListener("click", go(() => 0));
  byId("previous").addEventListener("click", go(() => current - 1));
  byId("next").addEventListener("click", go(() => current + 1));
  byId("last").addEventListener("click", go(() => last));
  playButton.addEventListener("click", () => (timer === null ? play() : pause()));
  slider.addEventListener("input", go(() => Number(slider.value)));
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const to = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last }[event.key];
    if (to === undefined) return;
    event.preventDefault(); // the slider, when focused, would move a second time
    pause();
    show(to);
  });
  slider.max = String(last);
  show(0);
}
