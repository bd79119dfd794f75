// Keyboard shortcuts for the reading room, as in Miniflux and Feedly. Every action is a plain form
// or link on the page; this script only finds it and presses it, so without JavaScript nothing is lost.
(function () {
  "use strict";

  function stories() { return Array.prototype.slice.call(document.querySelectorAll("article.story")); }

  function current() { return document.querySelector("article.story.current"); }

  function select(story) {
    var old = current();
    if (old) { old.classList.remove("current"); old.removeAttribute("aria-current"); }
    if (!story) { return; }
    story.classList.add("current");
    story.setAttribute("aria-current", "true");
    story.focus({ preventScroll: true });
    story.scrollIntoView({ block: "nearest" });
    if (history.replaceState) { history.replaceState(null, "", "#" + story.id); }
  }

  function move(step) {
    var all = stories();
    if (!all.length) { return; }
    var index = all.indexOf(current());
    var next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    select(all[next]);
  }

  // The scope an action applies to: the selected story on a list, the whole page on an item's page.
  function scope() { return current() || (document.querySelector("article.item") ? document : null); }

  function press(selector) {
    var where = scope();
    var button = where && where.querySelector(selector);
    if (button) { button.click(); }
  }

  function toggleHelp() {
    var help = document.getElementById("shortcuts");
    if (!help) { return; }
    help.hidden = !help.hidden;
    if (!help.hidden) { help.scrollIntoView({ block: "nearest" }); }
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o": {
        var story = current();
        var link = story && story.querySelector("h3 a");
        if (link) { window.location.href = link.href; }
        break;
      }
      case "s": press(".act-star button"); break;
      case "m": press(".act-read button"); break;
      case "x": press(".act-not-relevant button, button.act-not-relevant"); break;
      case "/": {
        var box = document.querySelector("form[role=search] input[type=search]");
        if (box) { box.focus(); box.select(); }
        break;
      }
      case "?": toggleHelp(); break;
      case "Escape": { var help = document.getElementById("shortcuts"); if (help) { help.hidden = true; } return; }
      default: return;
    }
    event.preventDefault();
  });

  // Back from a form post (its `next` names the story): the same story is selected again.
  document.addEventListener("DOMContentLoaded", function () {
    if (location.hash.indexOf("#s-") === 0) {
      var story = document.getElementById(location.hash.slice(1));
      if (story && story.classList.contains("story")) { select(story); }
    }
  });
}());
