/** Text for XML and HTML content and attribute values (junit.xml, report.html). */
export const escapeMarkup = (text: string | number): string =>
  String(text).replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
