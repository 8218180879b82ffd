/**
 * The tabular example: loads a published model (query parameters `model`, default cars-mpg;
 * `alias`, production; `coordinator`, this page's origin), reads its dataset version's schema
 * from the coordinator to build the form (form.ts), and shows what predictNamed returns:
 * values in the targets' units for regression, class probabilities for classification.
 */

import { type GridTabModel, loadModel, type NamedPrediction } from '@gridtab/client/inference';
import type { DatasetVersionView } from '@gridtab/shared';
import { type Field, fieldsOf, toInputs } from './form.ts';

declare global {
  interface Window {
    /** For tests and the curious: what the page shows, as data. */
    __tabular?: { ready: boolean; prediction: NamedPrediction | null; error: string | null };
  }
}

const params = new URLSearchParams(location.search);
const name = params.get('model') ?? 'cars-mpg';
const alias = params.get('alias') ?? 'production';
const coordinator = params.get('coordinator') ?? location.origin;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const byTestId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`)!;
const state: NonNullable<Window['__tabular']> = { ready: false, prediction: null, error: null };
window.__tabular = state;

/** The dataset version's view, for feature names and means; null if the coordinator has none. */
async function datasetVersion(ref: string | null): Promise<DatasetVersionView | null> {
  if (!ref) return null;
  const [dataset, version] = ref.split('@');
  const res = await fetch(
    `${coordinator}/api/datasets/${encodeURIComponent(dataset)}/versions/${version}`,
  ).catch(() => null);
  return res?.ok ? ((await res.json()) as DatasetVersionView) : null;
}

function render(fields: Field[]): void {
  const box = $('fields');
  box.replaceChildren(
    ...fields.map((f) => {
      const label = document.createElement('label');
      if (f.kind === 'number') {
        const input = Object.assign(document.createElement('input'), {
          name: f.name,
          type: 'number',
          step: 'any',
          required: true,
          value: f.mean === null ? '' : String(Number(f.mean.toPrecision(4))),
        });
        label.append(f.name, input);
      } else {
        const select = Object.assign(document.createElement('select'), { name: f.column });
        select.append(
          ...f.options.map((o) =>
            Object.assign(document.createElement('option'), { value: o.value, text: o.value }),
          ),
        );
        label.append(f.column, select);
      }
      return label;
    }),
  );
}

function show(p: NamedPrediction): void {
  const rows =
    p.kind === 'regression'
      ? Object.entries(p.values).map(([k, v]) => [k, Number(v.toPrecision(4)).toString()])
      : Object.entries(p.probabilities)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => [k, `${(v * 100).toFixed(1)}%`]);
  const table = document.createElement('table');
  for (const [k, v] of rows) {
    const tr = table.insertRow();
    tr.insertCell().textContent = k;
    const cell = tr.insertCell();
    cell.textContent = v;
    cell.dataset.testid = `out-${k}`;
  }
  byTestId('result').replaceChildren(table);
}

async function start(): Promise<void> {
  let model: GridTabModel;
  try {
    model = await loadModel(name, { coordinator, alias });
  } catch (e) {
    state.error = (e as Error).message;
    byTestId('status').textContent = `Could not load ${name} (${alias}): ${state.error}`;
    byTestId('status').classList.add('error');
    return;
  }
  const inputs = model.inputShape.reduce((a, b) => a * b, 1);
  const fields = fieldsOf(await datasetVersion(model.dataset), inputs);
  render(fields);
  const form = $<HTMLFormElement>('features');
  form.hidden = false;
  const showMeta = () => {
    byTestId('model').textContent = name;
    byTestId('version').textContent = model.version;
    byTestId('dataset').textContent = model.dataset ?? 'unknown';
    byTestId('backend').textContent = model.backend;
  };
  showMeta();
  model.onUpdate(showMeta);
  byTestId('status').textContent =
    model.task.kind === 'regression'
      ? `Predicts ${model.targetNames?.join(', ') ?? 'a value'} from ${inputs} inputs.`
      : `Classifies into ${model.task.numClasses} classes from ${inputs} inputs.`;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v)]));
    try {
      const [p] = await model.predictNamed(toInputs(fields, values, inputs));
      state.prediction = p;
      state.error = null;
      show(p);
    } catch (e) {
      state.error = (e as Error).message;
      byTestId('result').textContent = state.error;
    }
  });
  state.ready = true;
}

void start();
