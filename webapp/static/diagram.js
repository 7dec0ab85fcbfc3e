/* Shows a BPMN diagram with bpmn-js's NavigatedViewer and marks it (templates/_diagram.html):
   - data-kind="instance": finished elements, flows taken and current tokens (diagram.json),
   - data-kind="heat": per task, requests waiting now and median time spent (heat.json),
   - data-kind="documentation": the drawing alone.
   When done the container gets data-state="ready" (or "error"), which the browser tests wait for. */
(function () {
  'use strict';

  function get(url, json) {
    return fetch(url, {credentials: 'same-origin', headers: {Accept: json ? 'application/json' : 'application/xml'}})
      .then(function (response) {
        if (!response.ok) { throw new Error(url + ': ' + response.status); }
        return json ? response.json() : response.text();
      });
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return '–'; }
    if (seconds < 3600) { return Math.max(1, Math.round(seconds / 60)) + ' min'; }
    if (seconds < 86400 * 2) { return (seconds / 3600).toFixed(1) + ' h'; }
    return (seconds / 86400).toFixed(1) + ' d';
  }

  function markInstance(viewer, marks) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    function mark(ids, css) {
      ids.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, css); } });
    }
    mark(marks.completed || [], 'sek-done');
    mark(marks.flows || [], 'sek-taken');
    mark(marks.active || [], 'sek-active');
  }

  function markHeat(viewer, heat, box) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    var overlays = viewer.get('overlays');
    var most = heat.max_waiting || 0;
    Object.keys(heat.tasks || {}).forEach(function (id) {
      if (!registry.get(id)) { return; }
      var entry = heat.tasks[id];
      var level = entry.waiting === 0 || most === 0 ? 0 : Math.min(3, Math.ceil(3 * entry.waiting / most));
      if (level) { canvas.addMarker(id, 'sek-heat-' + level); }
      var badge = document.createElement('span');
      badge.className = 'sek-heat-badge' + (level ? ' sek-heat-' + level : '');
      badge.setAttribute('data-heat-for', id);
      badge.textContent = entry.waiting + ' ' + box.dataset.textWaiting + ' · ' +
        box.dataset.textMedian + ' ' + duration(entry.median_seconds);
      overlays.add(id, 'sek-heat', {position: {bottom: 4, left: 0}, html: badge});
    });
  }

  function show(box) {
    var viewer = new window.BpmnJS({container: box});
    var kind = box.dataset.kind;
    var data = box.dataset.dataUrl ? get(box.dataset.dataUrl, true) : Promise.resolve(null);
    return get(box.dataset.bpmnUrl, false)
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () { viewer.get('canvas').zoom('fit-viewport'); return data; })
      .then(function (payload) {
        if (payload && kind === 'instance') { markInstance(viewer, payload); }
        if (payload && kind === 'heat') { markHeat(viewer, payload, box); }
        box.dataset.state = 'ready';
      })
      .catch(function () {
        box.textContent = box.dataset.textError;
        box.dataset.state = 'error';
      });
  }

  document.querySelectorAll('.sek-diagram[data-bpmn-url]').forEach(show);
}());
