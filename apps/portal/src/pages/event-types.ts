import { type EventTypesListResponse } from '@skyhook/api-client';
import { type Html, html } from '../html';

export function eventTypesPage(catalogue: EventTypesListResponse): Html {
  return html`<h1>Event types</h1>
    <p class="muted">
      The <code>skyhook</code> domain is Skyhook's own notifications about your subscriptions (disabled,
      expiring, renewal window open, expired, a delivery failed for good, a replay finished): create a
      subscription to <code>skyhook.*</code> to receive them as webhooks. <code>*</code> does not include
      them.
    </p>
    ${
      catalogue.data.length === 0
        ? html`<p class="card">The catalogue is empty.</p>`
        : catalogue.domains.map(
            (domain) =>
              html`<h2>${domain}</h2>
                ${catalogue.data
                  .filter((type) => type.domain === domain)
                  .map(
                    (type) =>
                      html`<div class="card">
                        <h3><code>${type.name}</code></h3>
                        <p>${type.description || 'No description.'}</p>
                        ${
                          type.example === null
                            ? ''
                            : html`<p class="muted">Example <code>data</code>:</p>
                                <pre>${JSON.stringify(type.example, null, 2)}</pre>`
                        }
                        ${
                          type.schema === null
                            ? ''
                            : html`<details>
                                <summary>Schema of <code>data</code> (JSON Schema)</summary>
                                <pre>${JSON.stringify(type.schema, null, 2)}</pre>
                              </details>`
                        }
                      </div>`,
                  )}`,
          )
    }`;
}
