// The record page's full-history filter: by source and by date, in the browser only (the record is already on the
// page, so filtering asks nothing again). Without script the filter stays hidden and every row shows.
const filter = document.querySelector('[data-wcr-record-filter]');
if (filter) {
  filter.hidden = false;
  const source = filter.querySelector('#filter-source');
  const from = filter.querySelector('#filter-from');
  const to = filter.querySelector('#filter-to');
  const apply = () => {
    for (const row of document.querySelectorAll('.wcr-history tbody tr')) {
      const sources = (row.dataset.sources || '').split(' ');
      const date = row.dataset.date || '';
      const shown = (!source.value || sources.includes(source.value))
        && (!from.value || (date && date >= from.value))
        && (!to.value || (date && date <= to.value));
      row.hidden = !shown;
    }
  };
  filter.addEventListener('input', apply);
  filter.addEventListener('change', apply);
  filter.addEventListener('submit', (event) => event.preventDefault());
}
