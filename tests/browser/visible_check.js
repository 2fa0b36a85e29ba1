// What a person sees of each selector's elements (tests/browser/test_ui_visible.py): every
// element scrolled into view must have a non-zero size, show at least in part in the window, be
// drawn (not hidden, not transparent) and be the topmost thing at its centre. Answers the
// problems found, as "selector: what is wrong".
(selectors) => {
  const doc = document.documentElement;
  const problems = [];
  for (const selector of selectors) {
    const found = [...document.querySelectorAll(selector)].slice(0, 3);
    if (!found.length) problems.push(`${selector}: missing`);
    for (const el of found) {
      el.scrollIntoView({ block: "center", inline: "nearest" });
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width < 1 || r.height < 1) problems.push(`${selector}: ${r.width}x${r.height} px`);
      else if (r.right < 1 || r.left > doc.clientWidth - 1) problems.push(`${selector}: outside the window (${r.left}..${r.right})`);
      else if (style.visibility !== "visible" || Number(style.opacity) === 0) problems.push(`${selector}: not drawn`);
      else {
        // the centre of its part inside the window (a wide table scrolls sideways in its card)
        const x = (Math.max(r.left, 0) + Math.min(r.right, doc.clientWidth)) / 2;
        const top = document.elementFromPoint(x, r.top + Math.min(r.height / 2, 8));
        if (!top || !(el.contains(top) || top.contains(el))) problems.push(`${selector}: covered by ${top && top.tagName}#${top && top.id}.${top && top.className}`);
      }
    }
  }
  window.scrollTo(0, 0);
  return problems;
}
