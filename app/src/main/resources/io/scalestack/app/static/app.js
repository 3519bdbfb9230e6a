// The photo service page: plain fetch calls against the JSON API, same origin only.
'use strict';

const $ = (id) => document.getElementById(id);

async function call(method, path, body) {
  const init = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  $('served-by').textContent = response.headers.get('X-Served-By') || '?';
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  return { status: response.status, json };
}

function say(message, isError) {
  const status = $('status');
  status.textContent = message;
  status.style.color = isError ? 'crimson' : 'green';
}

function errorOf(status, json) {
  return (json && json.error) || ('HTTP ' + status);
}

function fields(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function showProfile(user) {
  loadPhotos().catch((e) => say('Request failed: ' + e, true));
  $('anonymous').hidden = true;
  $('member').hidden = false;
  $('username').textContent = user.username;
  $('user-id').textContent = user.id;
  const form = $('profile');
  form.elements.displayName.value = user.displayName;
  form.elements.bio.value = user.bio;
}

function showAnonymous() {
  $('anonymous').hidden = false;
  $('member').hidden = true;
}

async function loadProfile() {
  const { status, json } = await call('GET', '/api/me');
  if (status === 200) {
    showProfile(json);
  } else {
    showAnonymous();
  }
}

async function submit(event, handler) {
  event.preventDefault();
  try {
    await handler(event.target);
  } catch (e) {
    say('Request failed: ' + e, true);
  }
}

$('signup').addEventListener('submit', (e) => submit(e, async (form) => {
  const body = fields(form);
  const { status, json } = await call('POST', '/api/signup', body);
  if (status !== 201) {
    say(errorOf(status, json), true);
    return;
  }
  say('Welcome, ' + json.displayName + '! Logging you in.');
  const login = await call('POST', '/api/login', { username: body.username, password: body.password });
  if (login.status === 200) {
    form.reset();
    showProfile(login.json);
  } else {
    say(errorOf(login.status, login.json), true);
  }
}));

$('login').addEventListener('submit', (e) => submit(e, async (form) => {
  const { status, json } = await call('POST', '/api/login', fields(form));
  if (status === 200) {
    form.reset();
    say('Logged in.');
    showProfile(json);
  } else {
    say(errorOf(status, json), true);
  }
}));

$('profile').addEventListener('submit', (e) => submit(e, async (form) => {
  const { status, json } = await call('PUT', '/api/me', fields(form));
  if (status === 200) {
    say('Profile saved.');
    showProfile(json);
  } else if (status === 401) {
    say(errorOf(status, json), true);
    showAnonymous();
  } else {
    say(errorOf(status, json), true);
  }
}));

$('logout').addEventListener('click', async () => {
  await call('POST', '/api/logout');
  say('Logged out.');
  showAnonymous();
});

$('refresh').addEventListener('click', () => loadProfile().catch((e) => say('Request failed: ' + e, true)));

// ---- photos: upload, pick one, edit it; jobs are polled until they are done or dead

let selected = null;
const watched = new Map(); // jobId -> last state

function showPhotos(photos) {
  const list = $('photos');
  list.replaceChildren();
  for (const photo of photos) {
    const item = document.createElement('li');
    const label = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'photo';
    radio.checked = photo.id === selected;
    radio.addEventListener('change', () => { selected = photo.id; });
    const image = document.createElement('img');
    image.src = photo.url;
    image.height = 80;
    image.alt = 'photo ' + photo.id;
    label.append(radio, image, ' ' + photo.width + '×' + photo.height + ' ' + photo.mediaType);
    item.append(label);
    list.append(item);
  }
  if (selected === null && photos.length > 0) {
    selected = photos[0].id;
    list.querySelector('input').checked = true;
  }
}

async function loadPhotos() {
  const { status, json } = await call('GET', '/api/photos');
  if (status === 200) {
    showPhotos(json.photos);
  }
}

function showJob(job) {
  let row = document.getElementById('job-' + job.id);
  if (!row) {
    row = document.createElement('tr');
    row.id = 'job-' + job.id;
    $('jobs').prepend(row);
  }
  const result = document.createElement('td');
  if (job.state === 'done') {
    const link = document.createElement('a');
    link.href = '/api/photos/' + job.resultPhotoId;
    link.textContent = 'photo ' + job.resultPhotoId;
    result.append(link);
  } else {
    result.textContent = '-';
  }
  const cells = [job.id.slice(0, 8), job.state, String(job.attempts), job.error || ''].map((text) => {
    const cell = document.createElement('td');
    cell.textContent = text;
    return cell;
  });
  row.replaceChildren(...cells, result);
}

async function pollJobs() {
  for (const [jobId, state] of watched) {
    if (state === 'done' || state === 'dead') {
      continue;
    }
    const { status, json } = await call('GET', '/api/jobs/' + jobId);
    if (status === 200) {
      watched.set(jobId, json.state);
      showJob(json);
    }
  }
}

$('upload').addEventListener('submit', (e) => submit(e, async (form) => {
  const file = form.elements.file.files[0];
  // the bytes as they are: the server finds the format from them, not from this type
  const response = await fetch('/api/photos', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': file.type || 'application/octet-stream' }, body: file,
  });
  $('served-by').textContent = response.headers.get('X-Served-By') || '?';
  const json = await response.json();
  if (response.status !== 201) {
    say(errorOf(response.status, json), true);
    return;
  }
  selected = json.id;
  say('Uploaded: ' + json.width + '×' + json.height + ' ' + json.mediaType + '.');
  form.reset();
  await loadPhotos();
}));

$('edit').addEventListener('submit', (e) => submit(e, async (form) => {
  if (selected === null) {
    say('Upload or select a photo first.', true);
    return;
  }
  const v = form.elements;
  const ops = [];
  if (v.crop.checked) ops.push({ op: 'crop', x: +v.x.value, y: +v.y.value, w: +v.w.value, h: +v.h.value });
  if (v.resize.checked) ops.push({ op: 'resize', w: +v.rw.value, h: +v.rh.value });
  if (v.sharpen.checked) ops.push({ op: 'sharpen', sigma: +v.ssigma.value, amount: +v.amount.value });
  if (v.blur.checked) ops.push({ op: 'blur', sigma: +v.sigma.value });
  const { status, json } = await call('POST', '/api/photos/' + selected + '/edits', { ops });
  if (status !== 202) {
    say(errorOf(status, json), true);
    return;
  }
  say('Edit queued as job ' + json.jobId.slice(0, 8) + '.');
  watched.set(json.jobId, 'queued');
  showJob({ id: json.jobId, state: 'queued', attempts: 0, error: null, resultPhotoId: json.resultPhotoId });
}));

setInterval(() => pollJobs().catch((e) => say('Request failed: ' + e, true)), 500);

loadProfile().catch((e) => say('Request failed: ' + e, true));
