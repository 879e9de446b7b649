// « Transcription en direct »: capture the microphone or a shared tab, send numbered 16 kHz PCM frames over the
// WebSocket, show partial and confirmed text, and survive connection losses: every frame stays in memory until
// the server acknowledges it (it acknowledges only what is on its disk), and is resent after a reconnection.
import { announce } from "/static/shared/announce.js";
import { apiFetch } from "/static/shared/http.js";

(() => {
  const root = document.getElementById("direct");
  if (!root) return;

  const FRAME_SAMPLES = 4000; // 250 ms at 16 kHz
  const SEQ_BYTES = 4;
  // Close codes after which reconnecting cannot help (see assistant/api/routes/live_transcriptions.py).
  const FINAL_CLOSES = new Set([1003, 1009, 4401, 4403, 4404, 4410, 4413]);
  const BACKOFF_S = [0.5, 1, 2, 4, 8, 10];
  const FLUSH_TIMEOUT_MS = 30000;

  const form = document.getElementById("demarrage");
  const startButton = document.getElementById("demarrer");
  const errorBox = document.getElementById("erreur");
  const settings = document.getElementById("reglages");
  const live = document.getElementById("seance");
  const statusText = document.getElementById("etat");
  const elapsedText = document.getElementById("duree");
  const receivedText = document.getElementById("recu");
  const warning = document.getElementById("alerte");
  const finalBox = document.getElementById("final");
  const partialText = document.getElementById("provisoire");
  const finishButton = document.getElementById("terminer");
  const done = document.getElementById("fin");
  const link = document.getElementById("lien");

  let session = null;
  let socket = null;
  let capture = null;
  let nextSeq = 0;
  const unacked = new Map(); // seq -> frame (ArrayBuffer), in order of seq
  let acked = -1;
  let attempts = 0;
  let startedAt = 0;
  let clock = null;
  let ending = false;
  let stopped = false;

  function duration(seconds) {
    const whole = Math.max(0, Math.round(seconds));
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(Math.floor(whole / 3600))}:${pad(Math.floor((whole % 3600) / 60))}:${pad(whole % 60)}`;
  }

  function showError(box, message) {
    box.querySelector("p").textContent = message;
    box.hidden = false;
  }

  function setStatus(message) {
    statusText.textContent = message;
  }

  async function errorMessage(response, fallback) {
    try {
      const body = await response.json();
      return body?.error?.message || fallback;
    } catch {
      return fallback;
    }
  }

  // ---- Capture -------------------------------------------------------------------------------------------

  async function openStream(source) {
    if (source === "onglet") {
      // Browsers only share a tab's audio along with its video: the video track is dropped at once.
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: true });
      stream.getVideoTracks().forEach((track) => track.stop());
      if (stream.getAudioTracks().length === 0) {
        throw new Error("Aucun son partagé : partagez un onglet en cochant « Partager l'audio de l'onglet ».");
      }
      return new MediaStream(stream.getAudioTracks());
    }
    return navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
    });
  }

  // Fallback where AudioWorklet is missing: the same downsampling on the main thread.
  function scriptProcessor(context, input, onFrame) {
    const node = context.createScriptProcessor(4096, 1, 1);
    const step = context.sampleRate / 16000;
    let frame = new Int16Array(FRAME_SAMPLES);
    let filled = 0, phase = 0, sum = 0, count = 0;
    node.onaudioprocess = (event) => {
      const data = event.inputBuffer.getChannelData(0);
      for (let i = 0; i < data.length; i += 1) {
        sum += data[i]; count += 1; phase += 1;
        if (phase >= step) {
          phase -= step;
          const sample = Math.max(-1, Math.min(1, sum / count));
          sum = 0; count = 0;
          frame[filled] = sample < 0 ? sample * 32768 : sample * 32767;
          filled += 1;
          if (filled === FRAME_SAMPLES) { onFrame(frame.buffer); frame = new Int16Array(FRAME_SAMPLES); filled = 0; }
        }
      }
    };
    input.connect(node);
    node.connect(context.destination); // a ScriptProcessor only runs when connected; it outputs silence
    return node;
  }

  async function startCapture(source) {
    const stream = await openStream(source);
    const context = new AudioContext();
    // Created after the awaited permission prompt, the context may start suspended (no user gesture left).
    if (context.state === "suspended") await context.resume();
    const input = context.createMediaStreamSource(stream);
    let node;
    if (context.audioWorklet) {
      await context.audioWorklet.addModule("/static/live_transcription_worklet.js");
      node = new AudioWorkletNode(context, "live-downsampler", { processorOptions: { frameSamples: FRAME_SAMPLES } });
      node.port.onmessage = (event) => queueFrame(event.data);
      input.connect(node);
      // A node the destination does not pull may never run; its outputs are silence (it writes none).
      node.connect(context.destination);
    } else {
      node = scriptProcessor(context, input, queueFrame);
    }
    stream.getAudioTracks().forEach((track) => track.addEventListener("ended", () => {
      if (!ending) showError(warning, "La source du son a été coupée (partage arrêté ?). Terminez la réunion ou relancez-en une.");
    }));
    return { stream, context, node };
  }

  function stopCapture() {
    if (!capture) return;
    capture.node.disconnect();
    capture.stream.getTracks().forEach((track) => track.stop());
    capture.context.close();
    capture = null;
  }

  // ---- Frames and the socket ----------------------------------------------------------------------------

  function queueFrame(pcm) {
    const frame = new Uint8Array(SEQ_BYTES + pcm.byteLength);
    new DataView(frame.buffer).setUint32(0, nextSeq, false);
    frame.set(new Uint8Array(pcm), SEQ_BYTES);
    unacked.set(nextSeq, frame.buffer);
    nextSeq += 1;
    if (socket && socket.readyState === WebSocket.OPEN && socket.ready) socket.send(frame.buffer);
  }

  function acknowledge(seq) {
    for (const key of unacked.keys()) {
      if (key > seq) break;
      unacked.delete(key);
    }
    acked = Math.max(acked, seq);
  }

  function resendFrom(first) {
    for (const [seq, frame] of unacked) if (seq >= first) socket.send(frame);
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${window.location.host}${session.websocket_path}`);
    ws.binaryType = "arraybuffer";
    ws.ready = false;
    socket = ws;
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "ready") {
        attempts = 0;
        ws.ready = true;
        warning.hidden = true;
        acknowledge(message.acked);
        setStatus(ending ? "Envoi des derniers sons…" : "Enregistrement en cours");
        resendFrom(message.acked + 1);
      } else if (message.type === "ack") {
        acknowledge(message.seq);
        receivedText.textContent = duration(((acked + 1) * FRAME_SAMPLES) / 16000);
      } else if (message.type === "resend") {
        resendFrom(message.from);
      } else if (message.type === "final") {
        for (const segment of message.segments) {
          const paragraph = document.createElement("p");
          paragraph.className = "fr-mb-1w";
          paragraph.textContent = `[${duration(segment.start)}] ${segment.text}`;
          finalBox.append(paragraph);
        }
      } else if (message.type === "partial") {
        partialText.textContent = message.text;
      }
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws || stopped) return;
      socket = null;
      if (FINAL_CLOSES.has(event.code)) {
        showError(warning, event.reason || "La connexion a été refusée par le serveur.");
        setStatus("Enregistrement interrompu");
        if (event.code === 4413) finish();
        return;
      }
      const delay = BACKOFF_S[Math.min(attempts, BACKOFF_S.length - 1)];
      attempts += 1;
      setStatus(`Connexion perdue : nouvelle tentative dans ${delay} s (le son est gardé en attendant).`);
      announce("Connexion perdue, reconnexion en cours.");
      window.setTimeout(connect, delay * 1000);
    });
  }

  // ---- Start and finish ---------------------------------------------------------------------------------

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    startButton.disabled = true;
    const diarize = document.getElementById("intervenants").checked;
    const speakers = document.getElementById("nombre").value;
    const body = {
      title: document.getElementById("titre").value.trim() || null,
      language: document.getElementById("langue").value,
      diarize,
      num_speakers: diarize && speakers ? Number(speakers) : null,
      keep_audio: document.getElementById("conserver").checked,
    };
    const source = form.querySelector('input[name="source"]:checked').value;
    try {
      capture = await startCapture(source);
    } catch (error) {
      startButton.disabled = false;
      const denied = error && error.name === "NotAllowedError";
      showError(errorBox, denied ? "Accès au son refusé : autorisez le micro ou le partage dans le navigateur." : (error.message || "Le son ne peut pas être capté."));
      return;
    }
    const response = await apiFetch("/api/live-transcriptions", { method: "POST", json: body });
    if (!response.ok) {
      stopCapture();
      startButton.disabled = false;
      showError(errorBox, await errorMessage(response, "La réunion n'a pas pu être démarrée."));
      return;
    }
    session = await response.json();
    settings.hidden = true;
    live.hidden = false;
    startedAt = Date.now();
    clock = window.setInterval(() => { elapsedText.textContent = duration((Date.now() - startedAt) / 1000); }, 1000);
    announce("Enregistrement démarré.");
    connect();
  });

  function flushed() {
    return new Promise((resolve) => {
      const deadline = Date.now() + FLUSH_TIMEOUT_MS;
      const check = () => (unacked.size === 0 || Date.now() > deadline ? resolve(unacked.size === 0) : window.setTimeout(check, 200));
      check();
    });
  }

  async function finish() {
    if (ending) return;
    ending = true;
    finishButton.disabled = true;
    stopCapture();
    window.clearInterval(clock);
    setStatus("Envoi des derniers sons…");
    const complete = await flushed();
    if (!complete) showError(warning, "Une partie du son n'a pas pu être envoyée : la transcription portera sur ce que le serveur a reçu.");
    stopped = true;
    if (socket) socket.close(1000, "Réunion terminée");
    setStatus("Préparation de la transcription complète…");
    const response = await apiFetch(`/api/live-transcriptions/${session.id}/finish`, { method: "POST" });
    if (!response.ok) {
      finishButton.disabled = false;
      ending = false;
      stopped = false;
      showError(warning, await errorMessage(response, "La réunion n'a pas pu être terminée."));
      return;
    }
    const finished = await response.json();
    link.href = `/transcriptions/${finished.transcription_id}`;
    live.hidden = true;
    done.hidden = false;
    document.getElementById("fin-titre").focus();
    announce("Réunion terminée : la transcription complète est en préparation.");
  }

  finishButton.addEventListener("click", finish);

  window.addEventListener("beforeunload", (event) => {
    if (session && !stopped) event.preventDefault(); // the meeting is still being recorded
  });
})();
