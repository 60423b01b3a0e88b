import { escapeHtml, Html, html } from './html';

describe('html', () => {
  it('escapes what it interpolates, so a hostile response body stays text', () => {
    const body = '<script>alert("x")</script>&\'';
    expect(html`<pre>${body}</pre>`.text).toBe(
      '<pre>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</pre>',
    );
    expect(html`<a href="${'" onclick="evil()'}">x</a>`.text).toBe(
      '<a href="&quot; onclick=&quot;evil()">x</a>',
    );
  });

  it('keeps nested templates and lists as markup, and leaves out undefined, null and false', () => {
    const items = ['a<b', 'c'].map((item) => html`<li>${item}</li>`);
    // Called by another name, so that the formatter leaves the exact text of this template alone.
    const markup = html;
    expect(markup`<ul>${items}</ul>${undefined}${null}${false}${0}`.text).toBe(
      '<ul><li>a&lt;b</li><li>c</li></ul>0',
    );
    expect(html`${new Html('<b>raw</b>')}`.text).toBe('<b>raw</b>');
    expect(escapeHtml('plain')).toBe('plain');
  });
});
