// Load a screen's data from the village database, again whenever a pull brings new documents.
import {onMounted, ref, watch} from 'vue';
import {useVillage} from '../stores/village.js';

export function useVillageData(load) {
  const village = useVillage();
  const data = ref(null);
  const error = ref(null);
  async function refresh() {
    if (!village.db) return;
    try {
      data.value = await load(village.db);
    } catch (err) {
      error.value = err;
    }
  }
  onMounted(refresh);
  watch(() => [village.db, village.revision, village.pendingCount], refresh);
  return {data, error, refresh, village};
}
