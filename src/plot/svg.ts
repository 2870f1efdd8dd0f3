// Tiny SVG text helpers: escaping and number formatting for coordinates (2 decimals keeps files small and
// is far below a pixel).

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A coordinate with at most 2 decimals. */
export function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Wrap drawing content in a standalone SVG document with a white background. */
export function svgDocument(width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}" ` +
    `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${body}</svg>\n`
  );
}

/** Tableau 10: distinct, colour-blind-friendlier than the classic defaults. */
export const PALETTE: readonly string[] = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
];
