/* The modeler page: bpmn-js Modeler, SEK's own properties panel, the form editor,
   save (server validation, errors marked on the canvas) and deploy.

   The working copy is kept in this browser (localStorage) until it is deployed; the
   server stores nothing but deployed versions. Every change to the diagram goes
   through bpmn-js's modeling API, so it can be undone like a change on the canvas. */
(function () {
  'use strict';

  var root = document.getElementById('sek-modeler');
  if (!root || !window.BpmnJS) { return; }
  var texts = document.getElementById('modeler-texts').dataset;
  var canEdit = root.dataset.canEdit === 'true';
  var draftKey = 'sek-modeler-draft:' + root.dataset.key;
  var SPIFF = 'spiffworkflow:';
  var TIMER_KINDS = ['timeDuration', 'timeDate', 'timeCycle'];
  var state = { version: null, bpmnName: '', forms: {}, dirtyForms: {}, marked: [], selected: null, loaded: false };
  var modeler, modeling, moddle, registry, canvas;

  function byId(id) { return document.getElementById(id); }

  function setStatus(text, kind) {
    var box = byId('modeler-status');
    box.textContent = text;
    box.className = 'small mb-2 text-' + (kind || 'muted');
  }

  function fmt(text, params) {
    return text.replace(/%\((\w+)\)s/g, function (_m, name) { return String(params[name]); });
  }

  function post(url, body, accept) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': accept || 'application/json',
                 'X-CSRFToken': root.dataset.csrf },
      body: JSON.stringify(body)
    });
  }

  /* --- reading and writing the business object ------------------------------------------ */

  function capitalized(tag) { return tag.charAt(0).toUpperCase() + tag.slice(1); }

  function extValues(target) {
    return (target && target.extensionElements && target.extensionElements.values) || [];
  }

  function findExt(target, type) {
    return extValues(target).filter(function (v) { return v.$type === type; })[0];
  }

  function update(element, target, props) {
    if (target === element.businessObject) { modeling.updateProperties(element, props); }
    else { modeling.updateModdleProperties(element, target, props); }
  }

  function ensureExt(element, target) {
    if (!target.extensionElements) {
      var ext = moddle.create('bpmn:ExtensionElements', { values: [] });
      ext.$parent = target;
      update(element, target, { extensionElements: ext });
    }
    return target.extensionElements;
  }

  function addExt(element, target, created) {
    var ext = ensureExt(element, target);
    created.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: ext.values.concat([created]) });
    return created;
  }

  function removeExt(element, target, item) {
    var ext = target.extensionElements;
    modeling.updateModdleProperties(element, ext, {
      values: ext.values.filter(function (v) { return v !== item; }) });
  }

  function setExtBody(element, target, tag, value) {
    var type = SPIFF + capitalized(tag);
    var item = findExt(target, type);
    if (!value) { if (item) { removeExt(element, target, item); } return; }
    if (item) { modeling.updateModdleProperties(element, item, { value: value }); }
    else { addExt(element, target, moddle.create(type, { value: value })); }
  }

  function spiffProperty(target, name) {
    var props = findExt(target, SPIFF + 'Properties');
    return props && (props.properties || []).filter(function (p) { return p.name === name; })[0];
  }

  function setSpiffProperty(element, target, name, value) {
    var props = findExt(target, SPIFF + 'Properties');
    var prop = spiffProperty(target, name);
    if (prop && value) { modeling.updateModdleProperties(element, prop, { value: value }); return; }
    if (prop) {
      modeling.updateModdleProperties(element, props, {
        properties: props.properties.filter(function (p) { return p !== prop; }) });
      return;
    }
    if (!value) { return; }
    if (!props) { props = addExt(element, target, moddle.create(SPIFF + 'Properties', { properties: [] })); }
    var created = moddle.create(SPIFF + 'Property', { name: name, value: value });
    created.$parent = props;
    modeling.updateModdleProperties(element, props, { properties: (props.properties || []).concat([created]) });
  }

  function eventDefinition(bo, type) {
    return (bo.eventDefinitions || []).filter(function (d) { return d.$instanceOf(type); })[0];
  }

  function messageTarget(bo) {
    if (bo.$instanceOf('bpmn:ReceiveTask') || bo.$instanceOf('bpmn:SendTask')) { return bo; }
    return eventDefinition(bo, 'bpmn:MessageEventDefinition');
  }

  function definitionsOf(bo) {
    var node = bo;
    while (node.$parent) { node = node.$parent; }
    return node;
  }

  function setMessage(element, target, name) {
    if (!name) { update(element, target, { messageRef: undefined }); return; }
    var defs = definitionsOf(element.businessObject);
    var message = (defs.rootElements || []).filter(function (r) {
      return r.$instanceOf('bpmn:Message') && r.name === name; })[0];
    if (!message) {
      message = moddle.create('bpmn:Message', { id: 'message_' + name.replace(/[^\w-]/g, '_'), name: name });
      message.$parent = defs;
      modeling.updateModdleProperties(element, defs, { rootElements: defs.rootElements.concat([message]) });
    }
    update(element, target, { messageRef: message });
  }

  function operator(bo) { return findExt(bo, SPIFF + 'ServiceTaskOperator'); }

  /* What each data-prop input reads and writes. */
  var PROPS = {
    read: function (element, prop) {
      var bo = element.businessObject;
      var timer = eventDefinition(bo, 'bpmn:TimerEventDefinition');
      var kind = timer && TIMER_KINDS.filter(function (k) { return timer[k]; })[0];
      if (prop === 'id' || prop === 'name' || prop === 'calledElement') { return bo[prop] || ''; }
      if (prop.indexOf('prop:') === 0) { var p = spiffProperty(bo, prop.slice(5)); return (p && p.value) || ''; }
      if (prop === 'ext:messageVariable') { var mt = messageTarget(bo); var mv = mt && findExt(mt, SPIFF + 'MessageVariable'); return (mv && mv.value) || ''; }
      if (prop.indexOf('ext:') === 0) { var e = findExt(bo, SPIFF + capitalized(prop.slice(4))); return (e && e.value) || ''; }
      if (prop === 'timer-kind') { return kind || 'timeDuration'; }
      if (prop === 'timer-expr') { return (kind && timer[kind].body) || ''; }
      if (prop === 'script') { return bo.script || ''; }
      if (prop === 'condition') { return (bo.conditionExpression && bo.conditionExpression.body) || ''; }
      if (prop === 'message') { var t = messageTarget(bo); return (t && t.messageRef && t.messageRef.name) || ''; }
      if (prop.indexOf('operator:') === 0) { var op = operator(bo); return (op && op[prop.slice(9)]) || ''; }
      return '';
    },
    write: function (element, prop, value) {
      var bo = element.businessObject;
      if (prop === 'id' || prop === 'name' || prop === 'calledElement' || prop === 'script') {
        var change = {}; change[prop] = value || undefined;
        if (prop === 'id' && !value) { return; }
        modeling.updateProperties(element, change);
      } else if (prop.indexOf('prop:') === 0) {
        setSpiffProperty(element, bo, prop.slice(5), value);
      } else if (prop === 'ext:messageVariable') {
        setExtBody(element, messageTarget(bo), 'messageVariable', value);
      } else if (prop.indexOf('ext:') === 0) {
        setExtBody(element, bo, prop.slice(4), value);
        if (prop.indexOf('ext:form') === 0) { showFormEditor(element); }
      } else if (prop === 'timer-kind' || prop === 'timer-expr') {
        var timer = eventDefinition(bo, 'bpmn:TimerEventDefinition');
        var kind = byId('p-timer-kind').value, expr = byId('p-timer-expr').value;
        var change2 = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
        if (expr) { change2[kind] = moddle.create('bpmn:FormalExpression', { body: expr }); }
        modeling.updateModdleProperties(element, timer, change2);
      } else if (prop === 'condition') {
        modeling.updateProperties(element, { conditionExpression: value
          ? moddle.create('bpmn:FormalExpression', { body: value }) : undefined });
      } else if (prop === 'message') {
        setMessage(element, messageTarget(bo), value);
      } else if (prop.indexOf('operator:') === 0) {
        var op = operator(bo), attr = prop.slice(9), change3 = {};
        change3[attr] = value || undefined;
        if (op) { modeling.updateModdleProperties(element, op, change3); }
        else if (value) { addExt(element, bo, moddle.create(SPIFF + 'ServiceTaskOperator', change3)); }
      }
    }
  };

  /* --- the properties panel -------------------------------------------------------------- */

  function categories(element) {
    var bo = element.businessObject, found = ['*', bo.$type];
    if (bo.$instanceOf('bpmn:FlowNode')) { found.push('flow-node'); }
    if (eventDefinition(bo, 'bpmn:TimerEventDefinition')) { found.push('timer'); }
    if (messageTarget(bo)) { found.push('message'); }
    if (bo.$instanceOf('bpmn:SequenceFlow') && bo.sourceRef && bo.sourceRef.$instanceOf('bpmn:Gateway')) {
      found.push('condition');
    }
    return found;
  }

  function showPanel(element) {
    state.selected = element || null;
    var panel = byId('modeler-panel');
    var found = element ? categories(element) : [];
    panel.querySelectorAll('[data-for]').forEach(function (box) {
      var wanted = box.dataset.for.split(',');
      box.hidden = !wanted.some(function (w) { return found.indexOf(w) >= 0; });
    });
    byId('panel-title').textContent = element ? (element.businessObject.name || element.id) : byId('panel-title').dataset.empty;
    byId('panel-type').textContent = element ? element.businessObject.$type.replace('bpmn:', '') : '';
    if (!element) { showFormEditor(null); return; }
    panel.querySelectorAll('[data-prop]').forEach(function (input) {
      if (document.activeElement !== input) { input.value = PROPS.read(element, input.dataset.prop); }
    });
    var lanes = element.businessObject.lanes || [];
    byId('p-lane').textContent = lanes.map(function (l) { return l.name || l.id; }).join(', ') || '–';
    showFormEditor(element);
  }

  function bindPanel() {
    var title = byId('panel-title');
    title.dataset.empty = title.textContent;
    byId('modeler-panel').querySelectorAll('[data-prop]').forEach(function (input) {
      input.addEventListener('change', function () {
        if (!state.selected || !canEdit) { return; }
        try {
          PROPS.write(state.selected, input.dataset.prop, input.value.trim() === '' ? '' : input.value);
          setStatus('');
        } catch (err) {
          setStatus(texts.failed + ' ' + err.message, 'danger');
        }
        showPanel(registry.get(state.selected.id) || null);
      });
    });
  }

  /* --- the form editor ----------------------------------------------------------------- */

  function jsonProblem(text) {
    try { JSON.parse(text); return null; } catch (err) {
      var match = /position (\d+)/.exec(err.message), where = '';
      if (match) {
        var before = text.slice(0, Number(match[1])).split('\n');
        where = ' (' + texts.line + ' ' + before.length + ', ' + texts.column + ' ' +
          (before[before.length - 1].length + 1) + ')';
      }
      return texts.jsonError + where + ': ' + err.message;
    }
  }

  var formTimer = null;

  function formNames(element) {
    var bo = element && element.businessObject;
    if (!bo || !(bo.$instanceOf('bpmn:UserTask') || bo.$instanceOf('bpmn:StartEvent'))) { return null; }
    var schema = findExt(bo, SPIFF + 'FormJsonSchemaFilename');
    if (!schema || !schema.value) { return null; }
    var ui = findExt(bo, SPIFF + 'FormUiSchemaFilename');
    return { schema: schema.value.trim(), ui: ui && ui.value ? ui.value.trim() : '' };
  }

  function showFormEditor(element) {
    var names = formNames(element), editor = byId('form-editor');
    editor.hidden = !names;
    state.formNames = names;
    if (!names) { return; }
    byId('form-editor-name').textContent = element.businessObject.name || element.id;
    byId('form-schema-name').textContent = names.schema;
    byId('form-ui-name').textContent = names.ui || '–';
    byId('form-schema').value = state.forms[names.schema] ||
      '{\n  "type": "object",\n  "properties": {}\n}\n';
    byId('form-ui').value = names.ui ? (state.forms[names.ui] || '{}\n') : '';
    byId('form-ui').disabled = !names.ui;
    checkForm();
  }

  function formEdited(which) {
    var names = state.formNames;
    if (!names || !canEdit) { return; }
    var name = which === 'schema' ? names.schema : names.ui;
    if (!name) { return; }
    state.forms[name] = byId(which === 'schema' ? 'form-schema' : 'form-ui').value;
    state.dirtyForms[name] = true;
    saveDraftSoon();
    clearTimeout(formTimer);
    formTimer = setTimeout(checkForm, 350);
  }

  function listInto(box, items, kind) {
    box.textContent = '';
    items.forEach(function (text) {
      var line = document.createElement('div');
      line.className = 'text-' + kind;
      line.textContent = text;
      box.appendChild(line);
    });
  }

  function checkForm() {
    var schemaText = byId('form-schema').value, uiText = byId('form-ui').value;
    var schemaError = jsonProblem(schemaText), uiError = uiText.trim() ? jsonProblem(uiText) : null;
    listInto(byId('form-schema-errors'), schemaError ? [schemaError] : [], 'danger');
    listInto(byId('form-ui-errors'), uiError ? [uiError] : [], 'danger');
    if (schemaError || uiError) { return; }
    var body = { schema: JSON.parse(schemaText), ui: uiText.trim() ? JSON.parse(uiText) : null };
    post(root.dataset.formCheckUrl, body).then(function (r) { return r.json(); }).then(function (answer) {
      var errors = (answer.errors || []).map(function (e) {
        return (e.field ? e.field + ': ' : '') + e.message + (e.path ? ' (' + e.path + ')' : ''); });
      if (errors.length) { listInto(byId('form-schema-errors'), errors, 'danger'); }
      else { listInto(byId('form-schema-errors'), [texts.schemaOk], 'success'); }
    });
    post(root.dataset.previewUrl, body, 'text/html').then(function (r) { return r.text(); }).then(function (html) {
      // Our own server's fragment, rendered by Jinja with autoescaping: no user text is raw HTML.
      byId('form-preview').innerHTML = html;
    });
  }

  /* --- drafts, save and deploy ------------------------------------------------------------ */

  var draftTimer = null;

  function saveDraftSoon() {
    if (!canEdit || !state.loaded) { return; }
    clearTimeout(draftTimer);
    draftTimer = setTimeout(saveDraft, 800);
  }

  function dirtyForms() {
    var forms = {};
    Object.keys(state.dirtyForms).forEach(function (name) { forms[name] = state.forms[name]; });
    return forms;
  }

  function saveDraft() {
    return modeler.saveXML({ format: true }).then(function (result) {
      try {
        localStorage.setItem(draftKey, JSON.stringify({ version: state.version, bpmn: result.xml, forms: dirtyForms() }));
      } catch (err) { /* a full or disabled storage only loses the draft, not the page */ }
      return result.xml;
    });
  }

  function markProblems(problems) {
    state.marked.forEach(function (id) { if (registry.get(id)) { canvas.removeMarker(id, 'sek-error'); } });
    state.marked = [];
    var list = byId('modeler-problems');
    list.textContent = '';
    problems.forEach(function (problem) {
      var item = document.createElement('li');
      item.dataset.element = problem.element_id || '';
      item.textContent = problem.location ? problem.location + ': ' + problem.message : problem.message;
      var element = problem.element_id && registry.get(problem.element_id);
      if (element) {
        canvas.addMarker(element.id, 'sek-error');
        state.marked.push(element.id);
        item.classList.add('sek-problem-link');
        item.addEventListener('click', function () { modeler.get('selection').select(element); });
      }
      list.appendChild(item);
    });
  }

  function answerOf(response) {
    return response.json().then(function (body) { return { status: response.status, body: body }; },
      function () { return { status: response.status, body: {} }; });
  }

  function refused(answer) {
    var error = answer.body.error || {};
    var fields = error.fields || {};
    var problems = Object.keys(fields).map(function (loc) {
      return { location: loc, element_id: null, message: fields[loc].join('; ') }; });
    markProblems(problems);
    setStatus(texts.failed + ' ' + (error.message || answer.status), 'danger');
  }

  function save() {
    return saveDraft().then(function (xml) {
      return post(root.dataset.validateUrl, { bpmn: xml, forms: dirtyForms() });
    }).then(answerOf).then(function (answer) {
      if (answer.status !== 200) { refused(answer); return; }
      markProblems(answer.body.problems);
      setStatus(answer.body.ok ? texts.valid : texts.invalid, answer.body.ok ? 'success' : 'danger');
    });
  }

  function deploy() {
    var note = byId('modeler-note').value.trim();
    if (!note) { setStatus(texts.noteRequired, 'danger'); byId('modeler-note').focus(); return; }
    saveDraft().then(function (xml) {
      return post(root.dataset.deployUrl, { bpmn: xml, forms: dirtyForms(), note: note });
    }).then(answerOf).then(function (answer) {
      if (answer.status === 422 && answer.body.problems) {
        markProblems(answer.body.problems);
        setStatus(texts.invalid, 'danger');
        return;
      }
      if (answer.status !== 200 && answer.status !== 201) { refused(answer); return; }
      markProblems([]);
      state.version = answer.body.version;
      state.dirtyForms = {};
      localStorage.removeItem(draftKey);
      byId('modeler-note').value = '';
      setStatus(fmt(answer.body.created ? texts.deployed : texts.unchanged, { version: answer.body.version }),
        answer.body.created ? 'success' : 'info');
    });
  }

  /* --- start ----------------------------------------------------------------------------- */

  function restoreDraft(data) {
    if (!canEdit) { return null; }
    try {
      var draft = JSON.parse(localStorage.getItem(draftKey) || 'null');
      return draft && draft.version === data.version && draft.bpmn ? draft : null;
    } catch (err) { return null; }
  }

  setStatus(texts.loading);
  if (!canEdit) { root.classList.add('sek-read-only'); }
  fetch(root.dataset.descriptorUrl).then(function (r) { return r.json(); }).then(function (descriptor) {
    modeler = new window.BpmnJS({ container: '#modeler-canvas', moddleExtensions: { spiffworkflow: descriptor } });
    window.sekModeler = modeler;
    modeling = modeler.get('modeling');
    moddle = modeler.get('moddle');
    registry = modeler.get('elementRegistry');
    canvas = modeler.get('canvas');
    return fetch(root.dataset.filesUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  }).then(function (r) { return r.json(); }).then(function (data) {
    state.version = data.version;
    state.bpmnName = data.bpmn_name;
    state.forms = data.forms || {};
    var draft = restoreDraft(data), xml = data.bpmn;
    if (draft) {
      xml = draft.bpmn;
      Object.keys(draft.forms || {}).forEach(function (name) {
        state.forms[name] = draft.forms[name];
        state.dirtyForms[name] = true;
      });
    }
    return modeler.importXML(xml).then(function () {
      canvas.zoom('fit-viewport');
      state.loaded = true;
      setStatus(draft ? texts.draft : '', draft ? 'info' : 'muted');
    });
  }).then(function () {
    var bus = modeler.get('eventBus');
    bus.on('selection.changed', function (event) { showPanel(event.newSelection[0]); });
    bus.on('elements.changed', function (event) {
      if (state.selected && event.elements.indexOf(state.selected) >= 0) { showPanel(state.selected); }
    });
    bus.on('commandStack.changed', saveDraftSoon);
    bindPanel();
    showPanel(null);
    byId('form-schema').addEventListener('input', function () { formEdited('schema'); });
    byId('form-ui').addEventListener('input', function () { formEdited('ui'); });
    if (canEdit) {
      byId('modeler-save').addEventListener('click', save);
      byId('modeler-deploy').addEventListener('click', deploy);
      byId('modeler-discard').addEventListener('click', function () {
        localStorage.removeItem(draftKey);
        window.location.reload();
      });
    }
    root.dataset.ready = 'true';
  }).catch(function (err) {
    setStatus(texts.loadFailed + ' ' + err.message, 'danger');
  });
}());
