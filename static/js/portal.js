// Turns on the NHS.UK frontend's enhancements. Every page works without it.
import { initAll } from '../nhsuk/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')

// The frontend's conditional reveals mark their radios aria-expanded, which
// ARIA does not allow on a radio (WCAG 4.1.2; the GOV.UK Design System
// dropped it for this reason): screen readers would read out "collapsed"
// on a radio. aria-controls still ties each radio to what it reveals, so
// the attribute is removed whenever it is set.
const radios = 'input[type="radio"][aria-expanded]'
new MutationObserver((changes) => {
  for (const change of changes) {
    if (change.target.matches(radios)) change.target.removeAttribute('aria-expanded')
  }
}).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['aria-expanded'] })

initAll()
for (const radio of document.querySelectorAll(radios)) radio.removeAttribute('aria-expanded')
