// "Utiliser ma position": fills the latitude/longitude fields of the report form from the
// phone's GPS (navigator.geolocation). The form works without it (fields typed by hand).
(function () {
  "use strict";
  var button = document.getElementById("report-geolocate");
  var status = document.getElementById("report-geolocate-status");
  var lat = document.getElementById("id_latitude");
  var lon = document.getElementById("id_longitude");
  if (!button || !lat || !lon || !("geolocation" in navigator)) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = "Recherche de votre position…";
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        status.textContent =
          "Position trouvée (précision " + Math.round(position.coords.accuracy) + " m).";
        button.disabled = false;
      },
      function (error) {
        status.textContent =
          error.code === 1
            ? "Position refusée : saisissez-la à la main si besoin."
            : "Position indisponible : saisissez-la à la main si besoin.";
        button.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
})();
