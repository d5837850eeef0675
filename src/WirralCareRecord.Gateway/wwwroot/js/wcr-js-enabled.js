// Runs first, before the page is drawn, so the design system's components style themselves without a flash. A file,
// not an inline script: the pages' Content-Security-Policy allows scripts from the gateway only.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');
