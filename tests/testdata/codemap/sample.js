// An event emitter with once() and a default export.
import { EventEmitter as Base } from "./base.js";

const MAX_LISTENERS = 10;

export class Emitter extends Base {
  constructor(options = {}) {
    super();
    this.max = options.max ?? MAX_LISTENERS;
  }

  on(event, listener) {
    this.listeners(event).push(listener);
    return this;
  }

  async once(event) {
    return new Promise((resolve) => this.on(event, resolve));
  }
}

export function createEmitter(options) {
  return new Emitter(options);
}

export const debounce = (fn, wait = 100) => {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
};

module.exports.legacy = function legacy() {
  return createEmitter({});
};
