// Starts the commune console. The console works online (it reads and decides on the
// server's data), so it has no service worker of its own.
import init from "/console/console.js";

init();
