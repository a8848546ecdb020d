// The state and save of a household form (new or edited): `write(values)` runs only when every
// field passes the server's rules; otherwise each problem shows next to its field.
import {ref} from 'vue';
import {showToast} from 'vant';
import {t} from '../i18n.js';
import {fromForm} from './household_form.js';

export function useHouseholdForm(write, stored = () => null) {
  const form = ref(null);
  const errors = ref({});
  const busy = ref(false);

  async function save() {
    const {values, errors: found} = fromForm(form.value, stored(), t);
    errors.value = found;
    if (Object.keys(found).length) {
      showToast(t('household.check_form'));
      return;
    }
    busy.value = true;
    try {
      await write(values);
    } finally {
      busy.value = false;
    }
  }
  return {form, errors, busy, save};
}
