// The location picker: preset places and typed coordinates (loaded before app.js).
"use strict";

// ---------------------------------------------------------------- location

function renderPlaces() {
  const list = $("place-list");
  list.replaceChildren(
    ...state.places.map((place) => {
      const button = el("button", {
        type: "button",
        testid: "place-button",
        text: `${placeName(place)} · ${coordinates(place)}`,
      });
      button.addEventListener("click", () => shareLocation(place.latitude, place.longitude));
      return el("li", {}, [button]);
    }),
  );
}

function openLocationPicker() {
  $("location-picker").hidden = false;
}

function closeLocationPicker() {
  $("location-picker").hidden = true;
}

async function shareLocation(latitude, longitude) {
  closeLocationPicker();
  await send({ location: { latitude, longitude } });
  if (state.oneTimeKeyboard) $("reply-keyboard").hidden = true;
}

function sendTypedLocation() {
  const latitude = Number.parseFloat($("lat-input").value);
  const longitude = Number.parseFloat($("lon-input").value);
  if (!(Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180)) {
    showStatus(t("badLocation"));
    return;
  }
  shareLocation(latitude, longitude);
}

