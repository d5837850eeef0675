// The NHS design system's components, and the NHS number field's help as you type. The server checks everything
// again: this only saves a round trip.
import { initAll } from '/nhsuk-frontend/nhsuk-frontend.min.js';

initAll();

// NHS numbers: 10 digits, the last a Modulus 11 check digit (https://www.datadictionary.nhs.uk/attributes/nhs_number.html).
function checkDigitProblem(digits) {
  if (digits.length === 0) return null;
  if (digits.length !== 10) return 'Enter a 10 digit NHS number';
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  if (check === 10 || check !== Number(digits[9])) return 'This is not a valid NHS number: check the digits';
  return null;
}

function format(digits) {
  return [digits.slice(0, 3), digits.slice(3, 6), digits.slice(6, 10)].filter(part => part.length > 0).join(' ');
}

for (const input of document.querySelectorAll('input[data-wcr-nhs-number]')) {
  const group = input.closest('[data-wcr-nhs-number-group]');
  const show = (problem) => {
    let message = group.querySelector('#nhs-number-error');
    if (!problem) {
      message?.remove();
      group.classList.remove('nhsuk-form-group--error');
      input.classList.remove('nhsuk-input--error');
      input.setAttribute('aria-describedby', 'nhs-number-hint');
      return;
    }
    if (!message) {
      message = document.createElement('span');
      message.className = 'nhsuk-error-message';
      message.id = 'nhs-number-error';
      input.before(message);
    }
    message.innerHTML = '<span class="nhsuk-u-visually-hidden">Error:</span> ';
    message.append(document.createTextNode(problem));
    group.classList.add('nhsuk-form-group--error');
    input.classList.add('nhsuk-input--error');
    input.setAttribute('aria-describedby', 'nhs-number-hint nhs-number-error');
  };
  input.addEventListener('input', () => {
    const digits = input.value.replace(/\D/g, '').slice(0, 10);
    const formatted = format(digits);
    if (formatted !== input.value) input.value = formatted;
    // Only complain once the number is complete, or on leaving the field.
    show(digits.length === 10 ? checkDigitProblem(digits) : null);
  });
  input.addEventListener('blur', () => show(checkDigitProblem(input.value.replace(/\D/g, ''))));
}
