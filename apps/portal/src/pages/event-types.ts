import { type EventTypesListResponse } from '@skyhook/api-client';
import { type Html, html } from '../html';

export function eventTypesPage(catalogue: EventTypesListResponse): Html {
  return html`<h1>Event types</h1>
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
                      </div>`,
                  )}`,
          )
    }`;
}
