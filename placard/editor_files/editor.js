// The preview's editing form: the body's live preview, converted by the build's own Markdown pipeline
// (POST /__placard__/render with the form's token); focus on the problems or refusal after a save.
(function () {
  var form = document.querySelector('form[action="/__placard__/save"]');
  var status = document.getElementById('upload-status');
  var alert = document.getElementById('refusal') || document.getElementById('problems') || (status && status.textContent.trim() ? status : null);
  if (alert) alert.focus();
  if (!form) return;
  // Enter in the photo's alt text uploads it (elsewhere in the form, Enter is "Check and save")
  var alt = document.getElementById('f-upload-alt');
  if (alt) alt.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    form.querySelector('button[value="upload:body"]').click();
  });
  var body = document.getElementById('f-body-text');
  var out = document.getElementById('body-preview');
  var timer = null, asked = 0;
  // A photo written next to the file (src="rally.jpg") is shown from content/ (GET /__placard__/photo, with the token)
  function showPhoto(img) {
    var src = img.getAttribute('src') || '';
    if (/^([a-z][a-z0-9+.-]*:|\/|#)/i.test(src)) return;
    var query = new URLSearchParams({file: form.getAttribute('data-folder') + '/' + src.split(/[?#]/)[0], token: form.elements.__token.value});
    img.setAttribute('src', '/__placard__/photo?' + query.toString());
  }
  function render() {
    var mine = ++asked;
    var data = new FormData();
    data.append('__token', form.elements.__token.value);
    data.append('__body', body.value);
    fetch('/__placard__/render', {method: 'POST', body: data, cache: 'no-store'})
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (mine !== asked) return;
        var made = document.createElement('template');  // (its images load only once pointed at content/'s photos)
        made.innerHTML = answer.html;
        made.content.querySelectorAll('img').forEach(showPhoto);
        out.replaceChildren(made.content);
        answer.problems.forEach(function (text) {
          var p = document.createElement('p'); p.className = 'error'; p.textContent = text; out.appendChild(p);
        });
      });
  }
  body.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(render, 250); });
  render();
})();
