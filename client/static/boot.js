// Starts the app and its service worker. A file of its own, not inline in index.html, so
// the server's Content-Security-Policy can allow scripts from this origin only.
import init from "/client.js";

init();

// Offline start and updates: the service worker keeps this version; when a new one is
// ready the person is asked to reload instead of being switched mid-task.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", async () => {
    const banner = document.getElementById("update");
    const offer = (worker) => {
      banner.hidden = false;
      banner.querySelector("button").onclick = () => worker.postMessage("activate-new-version");
    };
    let reloading = false;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (!reloading && banner.dataset.asked === "yes") { reloading = true; location.reload(); }
    });
    const reg = await navigator.serviceWorker.register("/sw.js");
    banner.querySelector("button").addEventListener("click", () => { banner.dataset.asked = "yes"; });
    if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
    reg.addEventListener("updatefound", () => {
      const next = reg.installing;
      next.addEventListener("statechange", () => {
        if (next.state === "installed" && navigator.serviceWorker.controller) offer(next);
      });
    });
  });
}
