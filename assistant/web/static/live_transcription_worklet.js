// Audio worklet of « Transcription en direct »: mixes the input to mono, downsamples it to 16 kHz (averaging the
// samples each output sample covers, a cheap low-pass that keeps speech intelligible) and posts 16-bit PCM frames
// of `frameSamples` samples to the page, which numbers and sends them.
class LiveDownsampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.step = sampleRate / 16000; // `sampleRate` is the AudioContext's, a global of the worklet scope
    this.size = options.processorOptions.frameSamples;
    this.frame = new Int16Array(this.size);
    this.filled = 0;
    this.phase = 0;
    this.sum = 0;
    this.count = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const length = input[0].length;
    for (let i = 0; i < length; i += 1) {
      let value = 0;
      for (let c = 0; c < input.length; c += 1) value += input[c][i];
      this.sum += value / input.length;
      this.count += 1;
      this.phase += 1;
      if (this.phase >= this.step) {
        this.phase -= this.step;
        const sample = Math.max(-1, Math.min(1, this.sum / this.count));
        this.sum = 0;
        this.count = 0;
        this.frame[this.filled] = sample < 0 ? sample * 32768 : sample * 32767;
        this.filled += 1;
        if (this.filled === this.size) {
          // Transferred, the buffer is detached: the old array's length reads 0 from here on.
          this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
          this.frame = new Int16Array(this.size);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("live-downsampler", LiveDownsampler);
