/**
 * The example app: everything GridTab-specific is in classifier.ts (loadModel, onUpdate), on
 * the main thread or in a worker; the rest is a drawing pad and an image picker. Query
 * parameters: `model` (default fashion), `alias` (production), `backend` (auto), `coordinator`
 * (this page's origin), `worker=1`.
 */
import '@tensorflow/tfjs-backend-webgpu';
import { type BackendPreference, type Classification, InferenceError } from '@gridtab/client/inference';
import { mainThreadClassifier, workerClassifier } from './classifier.ts';

declare global {
  interface Window {
    /** For tests and the curious: what the page shows, as data. */
    __classifier?: {
      ready: boolean;
      version: string | null;
      result: Classification | null;
      errors: string[];
    };
  }
}

const params = new URLSearchParams(location.search);
const LABELS = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const byTest = (id: string) => document.querySelector(`[data-testid="${id}"]`) as HTMLElement;
const state: NonNullable<Window['__classifier']> = { ready: false, version: null, result: null, errors: [] };
window.__classifier = state;

const pad = $<HTMLCanvasElement>('pad');
const ctx = pad.getContext('2d', { willReadFrequently: true })!;
let input: ImageData | HTMLCanvasElement = pad;
let truth: string | null = null;

function showError(e: unknown) {
  const text = e instanceof InferenceError ? `${e.code}: ${e.message}` : String(e);
  state.errors.push(text);
  byTest('error').textContent = text;
}

const options = {
  name: params.get('model') ?? 'fashion',
  coordinator: params.get('coordinator') ?? location.origin,
  alias: params.get('alias') ?? 'production',
  backend: (params.get('backend') as BackendPreference | null) ?? 'auto',
};
// `?worker=1` runs the SDK in a Web Worker; the page works the same either way.
const inWorker = params.get('worker') === '1';
const model = await (inWorker ? workerClassifier(options) : mainThreadClassifier(options)).catch((e) => {
  showError(e);
  throw e;
});

function showVersion() {
  state.version = model.version;
  byTest('version').textContent = model.version;
  byTest('backend').textContent = `${model.backend}${inWorker ? ' (in a worker)' : ''}`;
}

async function classify() {
  try {
    const r = await model.classify(input, $<HTMLInputElement>('invert').checked);
    state.result = r;
    byTest('label').textContent = r.label;
    byTest('confidence').textContent = `${(r.confidence * 100).toFixed(1)}%`;
    byTest('truth').textContent = truth ?? '–';
  } catch (e) {
    showError(e);
  }
}

// A promotion swaps the model under the page: show the new version and re-classify.
model.onUpdate(() => {
  showVersion();
  void classify();
});
model.onError((message) => showError(message));
showVersion();
state.ready = true;

// Fashion-MNIST test images: labels first, then 28x28 grey pixels, one byte each.
const samples = new Uint8Array(await (await fetch('./test-images.bin')).arrayBuffer());
const count = samples.length / 785;
let next = Number(params.get('sample') ?? 0);

$('sample').addEventListener('click', () => {
  const i = next++ % count;
  const image = new ImageData(28, 28);
  for (let p = 0; p < 784; p++) {
    const v = samples[count + i * 784 + p];
    image.data.set([v, v, v, 255], p * 4);
  }
  ctx.imageSmoothingEnabled = false;
  const small = new OffscreenCanvas(28, 28);
  small.getContext('2d')!.putImageData(image, 0, 0);
  ctx.drawImage(small, 0, 0, 280, 280);
  input = image;
  truth = LABELS[samples[i]];
  void classify();
});

$('clear').addEventListener('click', () => {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
  input = pad;
  truth = null;
});

let drawing = false;
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  input = pad;
  truth = null;
  ctx.beginPath();
  ctx.moveTo(e.offsetX, e.offsetY);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 22;
  ctx.lineCap = 'round';
  ctx.lineTo(e.offsetX, e.offsetY);
  ctx.stroke();
});
pad.addEventListener('pointerup', () => {
  drawing = false;
  void classify();
});

async function drawFile(file: File) {
  const bitmap = await createImageBitmap(file);
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
  ctx.drawImage(bitmap, 0, 0, pad.width, pad.height);
  input = pad;
  truth = null;
  void classify();
}
$<HTMLInputElement>('file').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void drawFile(file);
});
pad.addEventListener('dragover', (e) => {
  e.preventDefault();
  pad.classList.add('drop');
});
pad.addEventListener('dragleave', () => pad.classList.remove('drop'));
pad.addEventListener('drop', (e) => {
  e.preventDefault();
  pad.classList.remove('drop');
  const file = e.dataTransfer?.files[0];
  if (file) void drawFile(file);
});
