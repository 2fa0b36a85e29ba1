// What a user would see as broken layout (tests/browser/test_ui.py): a page wider than
// the window, a number touching its card's edge, a counter label that wraps or is cut.
() => {
  const doc = document.documentElement;
  const cards = [...document.querySelectorAll('.counter')];
  const textBox = (el) => { const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect(); };
  const touching = cards.filter((card) => {
    const box = card.getBoundingClientRect(), text = textBox(card.querySelector('.value'));
    return text.right > box.right - 6 || text.left < box.left + 6;
  }).map((card) => card.querySelector('.label').textContent);
  const labels = cards.map((card) => card.querySelector('.label'));
  const cut = labels.filter((l) => l.scrollWidth > l.clientWidth).map((l) => l.textContent);
  const heights = [...new Set(labels.map((l) => Math.round(l.getBoundingClientRect().height)))];
  const outside = [...document.querySelectorAll('body *')].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > doc.clientWidth + 0.5 && !el.closest('.table-wrap, .runs, .attributes');
  }).map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`).slice(0, 8);
  return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, touching, cut, heights, outside };
}
