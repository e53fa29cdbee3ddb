// The hall page, made live: the hall's event stream replaces the board
// the server renders, the newest call blinks when it is news, and each new
// call is said by playing the voice pack's clips the server lists, in
// order with their pauses, after the chime. Browsers let a page make sound
// only after a click, so the page shows a button until sound is allowed;
// a TV in kiosk mode starts its browser with autoplay allowed and never
// shows it (docs/hall-web.md). The stream resumes with Last-Event-ID, so
// calls made while the connection was down are still said.
// Written for the older browsers of smart TVs: no modules, no async.
(function () {
  "use strict";
  var body = document.body;
  var board = document.getElementById("hall-board");
  if (!board || !window.EventSource) return;
  var offline = document.getElementById("hall-offline");
  var said = document.getElementById("hall-said");
  var soundButton = document.getElementById("hall-sound");
  var blinkMS = +body.getAttribute("data-blink");
  var chimeGap = +body.getAttribute("data-chime-gap") / 1000;
  var callGap = +body.getAttribute("data-call-gap") / 1000;
  var chimeURL = body.getAttribute("data-chime");
  var blinkFrom = 0;

  var audio = null;
  try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; }
  var clips = {}; // url: a promise of its decoded sound
  var queue = Promise.resolve();
  var endAt = 0; // when what is scheduled ends, on the audio clock

  // allowed: the browser has let the page make sound (autoplay allowed, or
  // the button clicked); from then on it may resume its audio at will.
  var allowed = false;
  var restTimer = 0;
  function soundOn() { return allowed; }
  function showSoundButton() {
    if (audio && audio.state === "running") allowed = true;
    soundButton.hidden = !audio || allowed;
  }
  // rest suspends the audio once what is scheduled has been heard: a
  // running audio context keeps its rendering thread busy even in silence
  // (the idle page took 4 % of a core with it running, 1 % without).
  function rest() {
    clearTimeout(restTimer);
    restTimer = setTimeout(function () {
      if (audio.currentTime >= endAt) audio.suspend();
    }, Math.max(0, endAt - audio.currentTime) * 1000 + 500);
  }
  if (audio) {
    audio.onstatechange = showSoundButton;
    soundButton.addEventListener("click", function () { audio.resume().then(function () { showSoundButton(); rest(); }); });
  }
  showSoundButton();
  if (allowed) rest();

  function clip(url) {
    if (!clips[url]) {
      clips[url] = fetch(url).then(function (r) {
        if (!r.ok) throw new Error(url + ": " + r.status);
        return r.arrayBuffer();
      }).then(function (data) {
        return new Promise(function (ok, fail) { audio.decodeAudioData(data, ok, fail); });
      });
      clips[url].catch(function () { delete clips[url]; });
    }
    return clips[url];
  }

  // fetchAll gets the sounds of urls one after the other, in order.
  function fetchAll(urls) {
    var out = [];
    return urls.reduce(function (p, u) {
      return p.then(function () { return clip(u); }).then(function (b) { out.push(b); });
    }, Promise.resolve()).then(function () { return out; });
  }

  function play(buffer, at) {
    var src = audio.createBufferSource();
    src.buffer = buffer;
    src.connect(audio.destination);
    src.start(at);
    return at + buffer.duration;
  }

  // say plays calls one after the other: the chime opens a run of calls,
  // and a call said while another still sounds follows it after a gap.
  function say(calls) {
    if (!soundOn() || !calls || !calls.length) return;
    clearTimeout(restTimer);
    queue = queue.then(function () { return audio.resume(); }).then(function () {
      var urls = [chimeURL];
      calls.forEach(function (c) { c.clips.forEach(function (k) { urls.push(k.url); }); });
      return fetchAll(urls).then(function (sounds) {
        var t = audio.currentTime + 0.05, i = 1;
        if (endAt > t) {
          t = endAt + callGap;
        } else {
          t = play(sounds[0], t) + chimeGap;
        }
        calls.forEach(function (c, n) {
          if (n > 0) t += callGap;
          c.clips.forEach(function (k, j) {
            t = play(sounds[i++], t + (j > 0 ? k.pause_ms / 1000 : 0));
          });
        });
        endAt = t;
      });
    }).catch(function (e) { if (window.console) console.warn("call not said", e); }).then(rest);
  }

  // blink keeps the newest call blinking across board updates, for
  // blinkMS from when it was called.
  function blink() {
    var call = document.getElementById("hall-call");
    var age = Date.now() - blinkFrom;
    if (!call || age >= blinkMS) return;
    call.classList.add("blink");
    call.style.animationDelay = (-age) + "ms";
    var title = call.querySelector("h2");
    if (title) title.style.animationDelay = (-age) + "ms";
  }

  var events = new EventSource(body.getAttribute("data-events"));
  events.addEventListener("board", function (e) {
    var ev = JSON.parse(e.data);
    offline.hidden = true;
    board.innerHTML = ev.html;
    if (ev.blink) {
      blinkFrom = Date.now();
      var number = document.getElementById("hall-number"), counter = document.getElementById("hall-counter");
      if (number && counter) said.textContent = number.textContent + " " + counter.textContent;
    }
    blink();
    say(ev.say);
  });
  events.addEventListener("error", function () { offline.hidden = false; });
})();
