/* Keel inspector: the page's only script (served by Keel, no framework, no inline code).
 * It asks for an admin's bearer token once (kept in sessionStorage for this tab), sends it as
 * `Authorization: Bearer` to /inspector/api/…, and draws what those routes answer. The causal graph's
 * tree layout is d3-hierarchy's (the `d3` global of /inspector/vendor/d3-hierarchy.min.js). */
/* global d3, document, window, fetch, sessionStorage, clearTimeout, URLSearchParams */
(function () {
  'use strict';

  var API = '/inspector/api';
  var TOKEN_KEY = 'keel-inspector-token';
  var FEED_MS = 2000;
  var FEED_KEEP = 50;
  var TIMELINE_STEPS = 2000; // TIMELINE_MAX_STEPS of queries.ts: one answer's steps
  var SVG = 'http://www.w3.org/2000/svg';

  var state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    tab: 'timeline',
    stream: null, // the open stream's id
    timeline: null, // the timeline answer
    step: 0,
    story: null,
    storyFor: null,
    selectedNode: null,
    feedCursor: null,
    feedTimer: null,
    feedOn: true,
    searchNext: null,
    searchQuery: '',
    projections: [],
  };

  var $ = function (id) {
    var element = document.getElementById(id);
    if (!element) throw new Error('inspector: no #' + id);
    return element;
  };

  /** An element with a class and text (never HTML: everything shown is data). */
  var el = function (tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = String(text);
    return element;
  };

  var svg = function (tag, attributes) {
    var element = document.createElementNS(SVG, tag);
    Object.keys(attributes || {}).forEach(function (name) {
      element.setAttribute(name, String(attributes[name]));
    });
    return element;
  };

  var clear = function (element) {
    while (element.firstChild) element.removeChild(element.firstChild);
    return element;
  };

  var json = function (value) {
    return JSON.stringify(value, null, 2);
  };

  var short = function (text, max) {
    text = String(text);
    return text.length > max ? text.slice(0, max - 1) + '…' : text;
  };

  var when = function (iso) {
    if (!iso) return '—';
    var date = new Date(iso);
    return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  };

  var kindOf = function (streamId) {
    var match = /^(order|inventory|payment|product)-/.exec(streamId || '');
    return match ? match[1] : 'other';
  };

  // ------------------------------------------------------------------------------------------
  // messages, the token, requests

  var messageTimer = null;
  var say = function (text, isError) {
    var message = $('message');
    message.textContent = text;
    message.className = 'message' + (isError ? ' error' : '');
    message.hidden = false;
    if (messageTimer) clearTimeout(messageTimer);
    if (!isError) {
      messageTimer = setTimeout(function () {
        message.hidden = true;
      }, 6000);
    }
  };

  var showSignedOut = function (why) {
    state.token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    $('token-form').hidden = false;
    $('signed-in').hidden = true;
    stopFeed();
    if (why) say(why, true);
  };

  var ApiError = function (status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  };

  /** GET (or POST `body`) /inspector/api + path with the token; resolves to the JSON answer. */
  var api = function (path, body) {
    if (!state.token) return Promise.reject(new ApiError(401, 'UNAUTHENTICATED', 'Paste an admin token first.'));
    var headers = { authorization: 'Bearer ' + state.token, accept: 'application/json' };
    var init = { method: body === undefined ? 'GET' : 'POST', headers: headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(API + path, init).then(function (response) {
      return response.json().then(
        function (answer) {
          return { response: response, answer: answer };
        },
        function () {
          return { response: response, answer: null };
        },
      );
    }).then(function (result) {
      if (result.response.ok) return result.answer;
      var error = result.answer && result.answer.error ? result.answer.error : { code: 'HTTP_' + result.response.status, message: 'HTTP ' + result.response.status };
      throw new ApiError(result.response.status, error.code, error.message);
    });
  };

  /** Shows a failed request; a refused token signs out. */
  var failed = function (error) {
    if (error instanceof ApiError && error.status === 401) return showSignedOut('The token was refused: ' + error.message + ' Paste a valid admin token.');
    if (error instanceof ApiError && error.status === 403) return showSignedOut('This token is not an admin’s: ' + error.message);
    var code = error instanceof ApiError ? error.code + ': ' : '';
    say(code + (error && error.message ? error.message : String(error)), true);
  };

  var signIn = function (token) {
    state.token = token;
    return api('/session').then(function (session) {
      sessionStorage.setItem(TOKEN_KEY, token);
      $('token-form').hidden = true;
      $('signed-in').hidden = false;
      $('who').textContent = 'Signed in as ' + session.subject + ' (' + session.roles.join(', ') + ')';
      $('message').hidden = true;
      if (!session.available) say('This Keel process has no event store wired into the inspector: its data routes answer 503.', true);
      startFeed();
      loadProjections(false);
      openFromHash();
    }, failed);
  };

  // ------------------------------------------------------------------------------------------
  // tabs and the address (#stream=…&tab=…&revision=…)

  var showTab = function (tab) {
    state.tab = tab;
    document.querySelectorAll('.tabs button').forEach(function (button) {
      button.setAttribute('aria-selected', String(button.getAttribute('data-tab') === tab));
    });
    ['timeline', 'story', 'projections', 'lineage'].forEach(function (name) {
      $('tab-' + name).hidden = name !== tab;
    });
    if (tab === 'story' && state.stream && state.storyFor !== state.stream) loadStory(state.stream);
    if (tab === 'projections') loadProjections(true);
    writeHash();
  };

  var writeHash = function () {
    var params = new URLSearchParams();
    if (state.stream) params.set('stream', state.stream);
    if (state.stream && state.timeline && state.timeline.steps[state.step]) params.set('revision', state.timeline.steps[state.step].event.revision);
    params.set('tab', state.tab);
    var hash = '#' + params.toString();
    if (window.location.hash !== hash) window.history.replaceState(null, '', hash);
  };

  var openFromHash = function () {
    var params = new URLSearchParams(window.location.hash.slice(1));
    var stream = params.get('stream');
    var tab = params.get('tab') || 'timeline';
    if (stream) openStream(stream, params.get('revision'), tab);
    else showTab(tab);
  };

  // ------------------------------------------------------------------------------------------
  // search and the live feed

  var eventItem = function (event, onOpen) {
    var item = el('li');
    var button = el('button');
    button.type = 'button';
    button.appendChild(el('span', 'primary', event.type));
    button.appendChild(el('span', 'secondary', event.streamId + ' · rev ' + event.revision + ' · #' + event.position));
    button.title = 'Open ' + event.streamId + ' at revision ' + event.revision;
    button.addEventListener('click', onOpen);
    item.appendChild(button);
    return item;
  };

  var runSearch = function (query, after) {
    var path = '/search?q=' + encodeURIComponent(query) + (after ? '&after=' + encodeURIComponent(after) : '');
    return api(path).then(function (result) {
      state.searchQuery = query;
      state.searchNext = result.next;
      $('results').hidden = false;
      $('results-note').textContent = result.note;
      var list = clear($('results-list'));
      if (result.events.length > 0) {
        result.events.forEach(function (event) {
          list.appendChild(eventItem(event, function () {
            openStream(event.streamId, event.revision, 'timeline');
          }));
        });
      } else {
        result.streams.forEach(function (hit) {
          var item = el('li');
          var button = el('button');
          button.type = 'button';
          button.setAttribute('data-stream', hit.streamId);
          button.appendChild(el('span', 'primary', hit.streamId));
          button.appendChild(el('span', 'secondary', hit.events + ' event(s) · last ' + hit.lastType + ' #' + hit.lastPosition));
          button.addEventListener('click', function () {
            openStream(hit.streamId, null, 'timeline');
          });
          item.appendChild(button);
          list.appendChild(item);
        });
      }
      if (result.events.length === 0 && result.streams.length === 0) list.appendChild(el('li', 'note', 'Nothing matches.'));
      $('results-more').hidden = !result.next;
    }, failed);
  };

  var renderFeed = function (events, fresh) {
    var list = $('feed-list');
    events.forEach(function (event) {
      var item = eventItem(event, function () {
        openStream(event.streamId, event.revision, 'timeline');
      });
      if (fresh) item.classList.add('fresh');
      list.insertBefore(item, list.firstChild);
    });
    while (list.children.length > FEED_KEEP) list.removeChild(list.lastChild);
  };

  var pollFeed = function () {
    state.feedTimer = null;
    if (!state.token || !state.feedOn) return;
    var first = state.feedCursor === null;
    api('/events/recent' + (first ? '' : '?after=' + encodeURIComponent(state.feedCursor))).then(
      function (result) {
        if (result.gap) clear($('feed-list'));
        renderFeed(result.events, !first && !result.gap);
        if (result.cursor !== null) state.feedCursor = result.cursor;
        $('feed-note').textContent = result.gap ? 'Many events arrived at once: skipped ahead to the newest.' : 'The newest events of the log, every 2 s.';
        schedule();
      },
      function (error) {
        failed(error);
        schedule();
      },
    );
  };

  var schedule = function () {
    if (state.feedTimer || !state.token || !state.feedOn) return;
    state.feedTimer = setTimeout(pollFeed, FEED_MS);
  };

  var startFeed = function () {
    state.feedOn = true;
    $('feed-state').textContent = 'live';
    $('feed-state').className = 'pill live';
    $('feed-toggle').textContent = 'Pause';
    if (!state.feedTimer) pollFeed();
  };

  var stopFeed = function () {
    state.feedOn = false;
    if (state.feedTimer) clearTimeout(state.feedTimer);
    state.feedTimer = null;
    $('feed-state').textContent = 'paused';
    $('feed-state').className = 'pill paused';
    $('feed-toggle').textContent = 'Resume';
  };

  // ------------------------------------------------------------------------------------------
  // a stream's timeline

  var openStream = function (streamId, revision, tab) {
    state.stream = streamId;
    state.story = null;
    state.storyFor = null;
    return loadTimeline(streamId, 0, revision).then(
      function () {
        showTab(tab || 'timeline');
      },
      function () {
        // Already shown by loadTimeline.
      },
    );
  };

  var loadTimeline = function (streamId, from, revision) {
    return api('/streams/' + encodeURIComponent(streamId) + '/timeline' + (Number(from) > 0 ? '?from=' + from : '')).then(function (result) {
      state.timeline = result;
      $('timeline-empty').hidden = true;
      $('timeline').hidden = false;
      $('timeline-title').textContent = result.streamId;
      $('timeline-kind').textContent = result.aggregate;
      $('timeline-note').textContent = result.note;
      $('timeline-more').hidden = !result.next;
      $('timeline-earlier').hidden = result.from === '0';
      var slider = $('step-slider');
      slider.max = String(Math.max(0, result.steps.length - 1));
      var ticks = clear($('step-ticks'));
      if (result.steps.length <= 200) {
        result.steps.forEach(function (step, index) {
          var item = el('li');
          var button = el('button', '', step.event.type);
          button.type = 'button';
          button.title = 'Revision ' + step.event.revision + ' · position ' + step.event.position;
          button.addEventListener('click', function () {
            go(index);
          });
          item.appendChild(button);
          ticks.appendChild(item);
        });
      }
      var at = 0;
      if (revision !== null && revision !== undefined) {
        result.steps.forEach(function (step, index) {
          if (step.event.revision === String(revision)) at = index;
        });
      }
      go(at);
    }, function (error) {
      failed(error);
      throw error;
    });
  };

  var fact = function (list, name, value) {
    list.appendChild(el('dt', '', name));
    list.appendChild(el('dd', '', value === null || value === undefined || value === '' ? '—' : value));
  };

  var show = function (value) {
    return value === undefined ? 'undefined' : JSON.stringify(value);
  };

  var renderDiff = function (changes) {
    var list = clear($('diff'));
    if (changes.length === 0) {
      list.appendChild(el('li', 'none', 'No change to the state.'));
      return;
    }
    changes.forEach(function (change) {
      var item = el('li', change.kind);
      item.setAttribute('data-path', change.path);
      var sign = change.kind === 'added' ? '+' : change.kind === 'removed' ? '−' : '~';
      item.appendChild(el('span', 'kind', sign));
      item.appendChild(el('span', 'path', change.path || '(the state)'));
      item.appendChild(document.createTextNode(': '));
      if (change.kind === 'changed') item.appendChild(document.createTextNode(show(change.before) + ' → ' + show(change.after)));
      else item.appendChild(document.createTextNode(show(change.kind === 'added' ? change.after : change.before)));
      list.appendChild(item);
    });
  };

  var go = function (index) {
    var timeline = state.timeline;
    if (!timeline || timeline.steps.length === 0) return;
    index = Math.max(0, Math.min(timeline.steps.length - 1, index));
    state.step = index;
    var step = timeline.steps[index];
    var event = step.event;
    var slider = $('step-slider');
    if (slider.value !== String(index)) slider.value = String(index);
    $('step-label').textContent = 'Event ' + (index + 1) + ' of ' + timeline.steps.length + ' · revision ' + event.revision;
    $('event-type').textContent = event.type;
    var facts = clear($('event-facts'));
    fact(facts, 'Revision', event.revision);
    fact(facts, 'Position', event.position);
    fact(facts, 'Time', when(event.time));
    fact(facts, 'Actor', event.actor);
    fact(facts, 'Command', event.commandType ? event.commandType + ' (' + event.commandId + ')' : event.commandId);
    fact(facts, 'Correlation', event.correlationId);
    fact(facts, 'Causation', event.causationId);
    fact(facts, 'Event id', event.id);
    fact(facts, 'Schema', 'v' + event.schemaVersion);
    $('event-data').textContent = json(event.data);
    renderDiff(step.changes);
    $('state').textContent = json(step.state);
    var ticks = $('step-ticks').querySelectorAll('button');
    ticks.forEach(function (button, i) {
      button.className = i === index ? 'current' : i > index ? 'future' : '';
    });
    writeHash();
  };

  // ------------------------------------------------------------------------------------------
  // the causal story

  var NODE_W = 230;
  var NODE_H = 62;

  var storyPath = function (streamId) {
    return /^order-./.test(streamId)
      ? '/orders/' + encodeURIComponent(streamId.slice('order-'.length)) + '/story'
      : '/streams/' + encodeURIComponent(streamId) + '/story';
  };

  var loadStory = function (streamId) {
    state.storyFor = streamId;
    $('story-empty').hidden = false;
    $('story-empty').textContent = 'Reading the story of ' + streamId + '…';
    $('story').hidden = true;
    return api(storyPath(streamId)).then(function (story) {
      if (state.storyFor !== streamId) return;
      state.story = story;
      renderStory(story);
    }, function (error) {
      state.storyFor = null;
      $('story-empty').textContent = 'No story: ' + (error.message || error);
      failed(error);
    });
  };

  var renderStory = function (story) {
    $('story-empty').hidden = true;
    $('story').hidden = false;
    $('story-subject').textContent = (story.subject.kind === 'order' ? 'Order ' + story.subject.id : story.subject.streamId) + ' · ' + story.verdict.status;
    var verdict = $('verdict');
    verdict.textContent = story.verdict.text;
    verdict.className = 'verdict ' + story.verdict.status;
    var streams = {};
    story.events.forEach(function (event) {
      streams[event.streamId] = true;
    });
    var index = story.indexNeverRan ? 'the event index never ran: the log was scanned' : story.scannedPastIndex > 0 ? story.scannedPastIndex + ' event(s) read past the event index' : 'the event index is up to date';
    var deadlines = (story.deadlines || []).map(function (d) {
      return d.sku + ' reserved until ' + when(d.expiresAt) + ' (' + d.outcome + ')';
    });
    $('story-deadlines').textContent = deadlines.length ? 'Reservation deadlines: ' + deadlines.join('; ') + '.' : '';
    $('story-deadlines').hidden = deadlines.length === 0;
    $('story-meta').textContent = story.events.length + ' events across ' + Object.keys(streams).length + ' stream(s), linked by causation; ' + index + '. Click an event for its data.';
    $('story-detail').hidden = true;
    drawGraph(story);
  };

  var drawGraph = function (story) {
    var graph = clear($('story-graph'));
    var byId = {};
    story.events.forEach(function (event) {
      byId[event.id] = event;
    });
    // One tree: a virtual root (not drawn) over the story's roots.
    var root = d3.hierarchy({ id: null, children: story.tree }, function (node) {
      return node.children;
    });
    d3.tree().nodeSize([NODE_W + 24, NODE_H + 46])(root);
    var nodes = root.descendants().filter(function (node) {
      return node.depth > 0;
    });
    var minX = Infinity;
    var maxX = -Infinity;
    var maxY = 0;
    nodes.forEach(function (node) {
      minX = Math.min(minX, node.x);
      maxX = Math.max(maxX, node.x);
      maxY = Math.max(maxY, node.y);
    });
    var top = NODE_H + 46; // depth 1 sits one level below the virtual root
    var margin = 20;
    var width = maxX - minX + NODE_W + 2 * margin;
    var height = maxY - top + NODE_H + 2 * margin;
    graph.setAttribute('width', String(width));
    graph.setAttribute('height', String(height));
    graph.setAttribute('viewBox', [minX - NODE_W / 2 - margin, top - NODE_H / 2 - margin, width, height].join(' '));
    root.links().forEach(function (link) {
      if (link.source.depth === 0) return;
      var x1 = link.source.x;
      var y1 = link.source.y + NODE_H / 2;
      var x2 = link.target.x;
      var y2 = link.target.y - NODE_H / 2;
      var middle = (y1 + y2) / 2;
      graph.appendChild(svg('path', { class: 'link', d: 'M' + x1 + ',' + y1 + ' C' + x1 + ',' + middle + ' ' + x2 + ',' + middle + ' ' + x2 + ',' + y2 }));
    });
    nodes.forEach(function (node) {
      var data = node.data;
      var classes = ['node', 'kind-' + kindOf(data.streamId)];
      if (data.id === story.verdict.causeId) classes.push('cause');
      var group = svg('g', { class: classes.join(' '), transform: 'translate(' + node.x + ',' + node.y + ')', 'data-event-id': data.id, tabindex: 0 });
      var title = svg('title');
      title.textContent = data.type + ' · ' + data.streamId + ' · revision ' + data.revision + ' · position ' + data.position;
      group.appendChild(title);
      group.appendChild(svg('rect', { class: 'box', x: -NODE_W / 2, y: -NODE_H / 2, width: NODE_W, height: NODE_H, rx: 8 }));
      group.appendChild(svg('rect', { class: 'bar', x: -NODE_W / 2, y: -NODE_H / 2, width: 6, height: NODE_H, rx: 3 }));
      var lines = [
        ['type', data.type, -NODE_H / 2 + 20],
        ['stream', short(data.streamId, 32), -NODE_H / 2 + 37],
        ['where', '#' + data.position + ' · rev ' + data.revision, -NODE_H / 2 + 53],
      ];
      lines.forEach(function (line) {
        var text = svg('text', { class: line[0], x: -NODE_W / 2 + 14, y: line[2] });
        text.textContent = line[1];
        group.appendChild(text);
      });
      var select = function () {
        selectNode(byId[data.id], group);
      };
      group.addEventListener('click', select);
      group.addEventListener('keydown', function (event) {
        if (event.key === 'Enter' || event.key === ' ') select();
      });
      graph.appendChild(group);
    });
  };

  var selectNode = function (event, group) {
    if (!event) return;
    document.querySelectorAll('#story-graph .node.selected').forEach(function (node) {
      node.classList.remove('selected');
    });
    group.classList.add('selected');
    state.selectedNode = event;
    $('story-detail').hidden = false;
    $('story-detail-title').textContent = event.type + ' — ' + event.streamId;
    var facts = clear($('story-detail-facts'));
    fact(facts, 'Revision', event.revision);
    fact(facts, 'Position', event.position);
    fact(facts, 'Time', when(event.time));
    fact(facts, 'Actor', event.actor);
    fact(facts, 'Command', event.commandType);
    fact(facts, 'Causation', event.causationId);
    $('story-detail-data').textContent = json(event.data);
  };

  // ------------------------------------------------------------------------------------------
  // projections, parked events, lineage

  var cell = function (row, text, className) {
    var td = el('td', className || '', text);
    row.appendChild(td);
    return td;
  };

  var loadProjections = function (show) {
    return api('/projections').then(function (result) {
      state.projections = result.projections;
      var select = $('lineage-projection');
      var chosen = select.value;
      clear(select);
      result.projections.forEach(function (projection) {
        var option = el('option', '', projection.name);
        option.value = projection.name;
        select.appendChild(option);
      });
      if (chosen) select.value = chosen;
      if (show) renderProjections(result.projections);
    }, failed);
  };

  var renderProjections = function (projections) {
    var body = clear($('projections-table').querySelector('tbody'));
    projections.forEach(function (projection) {
      var row = el('tr');
      row.setAttribute('data-projection', projection.name);
      var name = cell(row, '');
      name.appendChild(el('strong', '', projection.name));
      name.appendChild(el('span', 'desc', projection.description));
      var stateCell = cell(row, '');
      stateCell.appendChild(el('span', 'pill ' + projection.state, projection.state));
      cell(row, projection.position, 'num');
      cell(row, projection.head, 'num');
      var lag = (projection.lagEventsCapped ? projection.lagEvents + '+' : projection.lagEvents) + ' events';
      cell(row, projection.lagEvents === 0 ? 'caught up' : lag + ' · ' + projection.lagSeconds.toFixed(1) + ' s', 'num');
      var parked = cell(row, '', 'num');
      var button = el('button', projection.parked > 0 ? 'nowrap' : 'quiet', projection.parked > 0 ? projection.parked + ' parked' : '0');
      button.title = 'List the parked events of ' + projection.name;
      button.type = 'button';
      button.addEventListener('click', function () {
        loadParked(projection.name);
      });
      parked.appendChild(button);
      var runner = cell(row, projection.active === null ? '—' : projection.active ? 'active' : 'none', 'nowrap');
      runner.title = 'Whether a process holds this projection’s runner lock (PostgreSQL only)';
      cell(row, when(projection.updatedAt), 'small');
      body.appendChild(row);
    });
  };

  var loadParked = function (name) {
    return api('/projections/' + encodeURIComponent(name) + '/parked').then(function (result) {
      $('parked').hidden = false;
      $('parked-title').textContent = 'Parked events of ' + result.name;
      $('parked-note').textContent = result.parked.length === 0
        ? 'None: every event of ' + result.name + ' applied.'
        : 'A parked event failed to apply; later events of its key wait behind it. Retry re-applies it (after a fix); Skip gives up on it and releases the ones behind.';
      var body = clear($('parked-table').querySelector('tbody'));
      result.parked.forEach(function (parked) {
        var row = el('tr');
        row.setAttribute('data-parked-id', parked.id);
        cell(row, parked.id, 'num');
        var status = cell(row, '');
        status.appendChild(el('span', 'pill ' + parked.status, parked.status));
        cell(row, parked.key, 'mono nowrap');
        var what = cell(row, parked.event.type);
        what.appendChild(el('span', 'desc', parked.event.streamId + ' · #' + parked.event.position));
        cell(row, parked.attempts, 'num');
        cell(row, parked.status === 'blocked' ? 'waits behind parked event ' + parked.blockedBy : parked.error, 'error-text');
        cell(row, when(parked.parkedAt), 'small');
        var actions = el('div', 'actions');
        if (parked.status === 'parked') {
          ['retry', 'skip'].forEach(function (action) {
            var button = el('button', action === 'skip' ? 'danger' : '', action === 'retry' ? 'Retry' : 'Skip');
            button.type = 'button';
            button.setAttribute('data-action', action);
            button.addEventListener('click', function () {
              actOnParked(result.name, parked, action);
            });
            actions.appendChild(button);
          });
        }
        cell(row, '').appendChild(actions);
        body.appendChild(row);
      });
    }, failed);
  };

  /** A real <dialog>: resolves true when confirmed, false when cancelled (button or Escape). */
  var confirmDialog = function (title, text, okLabel) {
    var dialog = $('confirm-dialog');
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    $('confirm-ok').textContent = okLabel;
    return new Promise(function (resolve) {
      var done = function () {
        dialog.removeEventListener('close', done);
        resolve(dialog.returnValue === 'ok');
      };
      dialog.returnValue = '';
      dialog.addEventListener('close', done);
      dialog.showModal();
    });
  };

  var actOnParked = function (name, parked, action) {
    var what = action === 'retry'
      ? 'Re-apply parked event ' + parked.id + ' (' + parked.event.type + ', key ' + parked.key + ') to ' + name + ', then the events of its key waiting behind it?'
      : 'Give up on parked event ' + parked.id + ' (' + parked.event.type + ', key ' + parked.key + ') in ' + name + '? Its change will never be applied; the events waiting behind it are released.';
    return confirmDialog((action === 'retry' ? 'Retry' : 'Skip') + ' parked event ' + parked.id + '?', what, action === 'retry' ? 'Retry' : 'Skip').then(function (ok) {
      if (!ok) return undefined;
      return api('/projections/' + encodeURIComponent(name) + '/parked/' + encodeURIComponent(parked.id) + '/' + action, { confirm: true }).then(function (answer) {
        var result = answer.result;
        say(
          result.outcome === 'failed'
            ? 'Parked event ' + result.id + ' failed again: ' + result.error
            : (result.outcome === 'applied' ? 'Applied' : 'Skipped') + ' parked event ' + result.id + '; ' + result.released + ' waiting event(s) of ' + result.key + ' applied.',
          result.outcome === 'failed',
        );
        loadProjections(true);
        loadParked(name);
      }, failed);
    });
  };

  var trace = function (name, key) {
    $('lineage-note').textContent = 'Tracing ' + key + ' in ' + name + '…';
    return api('/projections/' + encodeURIComponent(name) + '/lineage/' + encodeURIComponent(key)).then(function (result) {
      $('lineage-note').textContent = result.events.length + ' event(s) wrote the rows of key ' + result.key + ' in ' + result.name + '.';
      var table = $('lineage-table');
      table.hidden = result.events.length === 0;
      var body = clear(table.querySelector('tbody'));
      result.events.forEach(function (event) {
        var row = el('tr');
        cell(row, event.position, 'num');
        cell(row, event.type);
        var stream = cell(row, '');
        var open = el('button', 'quiet', event.streamId);
        open.type = 'button';
        open.addEventListener('click', function () {
          openStream(event.streamId, event.revision, 'timeline');
        });
        stream.appendChild(open);
        cell(row, event.revision, 'num');
        cell(row, when(event.time), 'small');
        cell(row, event.correlationId || '—', 'mono small');
        body.appendChild(row);
      });
    }, function (error) {
      $('lineage-note').textContent = '';
      failed(error);
    });
  };

  // ------------------------------------------------------------------------------------------
  // wiring

  $('token-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var token = $('token-input').value.trim().replace(/^Bearer\s+/i, '');
    $('token-input').value = '';
    if (token) signIn(token);
  });
  $('forget-token').addEventListener('click', function () {
    showSignedOut();
    say('Token forgotten.');
  });
  $('search-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var query = $('search-input').value.trim();
    if (query) runSearch(query);
  });
  $('results-more').addEventListener('click', function () {
    if (state.searchNext) runSearch(state.searchQuery, state.searchNext);
  });
  $('feed-toggle').addEventListener('click', function () {
    if (state.feedOn) stopFeed();
    else startFeed();
  });
  document.querySelectorAll('.tabs button').forEach(function (button) {
    button.addEventListener('click', function () {
      showTab(button.getAttribute('data-tab'));
    });
  });
  $('step-slider').addEventListener('input', function (event) {
    go(Number(event.target.value));
  });
  $('step-prev').addEventListener('click', function () {
    go(state.step - 1);
  });
  $('step-next').addEventListener('click', function () {
    go(state.step + 1);
  });
  $('timeline-more').addEventListener('click', function () {
    if (state.timeline && state.timeline.next) loadTimeline(state.stream, state.timeline.next, null);
  });
  $('timeline-earlier').addEventListener('click', function () {
    if (state.timeline) loadTimeline(state.stream, Math.max(0, Number(state.timeline.from) - TIMELINE_STEPS), null);
  });
  $('timeline-story').addEventListener('click', function () {
    showTab('story');
  });
  $('story-detail-open').addEventListener('click', function () {
    if (state.selectedNode) openStream(state.selectedNode.streamId, state.selectedNode.revision, 'timeline');
  });
  $('projections-refresh').addEventListener('click', function () {
    loadProjections(true);
  });
  $('lineage-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var key = $('lineage-key').value.trim();
    if (key && $('lineage-projection').value) trace($('lineage-projection').value, key);
  });
  $('confirm-ok').addEventListener('click', function () {
    $('confirm-dialog').close('ok');
  });
  $('confirm-cancel').addEventListener('click', function () {
    $('confirm-dialog').close('cancel');
  });
  // ← and → step through the timeline (the slider handles its own keys when it has the focus).
  document.addEventListener('keydown', function (event) {
    var target = event.target;
    if (state.tab !== 'timeline' || !state.timeline || $('confirm-dialog').open) return;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
    if (event.key === 'ArrowRight') go(state.step + 1);
    else if (event.key === 'ArrowLeft') go(state.step - 1);
    else return;
    event.preventDefault();
  });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && state.feedOn) schedule();
  });

  if (state.token) {
    signIn(state.token);
  } else {
    showSignedOut();
    $('feed-state').textContent = 'off';
    $('feed-state').className = 'pill';
  }
})();
