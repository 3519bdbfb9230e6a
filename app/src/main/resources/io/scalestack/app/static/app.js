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

loadProfile().catch((e) => say('Request failed: ' + e, true));
