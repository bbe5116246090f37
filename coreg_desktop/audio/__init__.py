"""Sound: procedural ambience, cue tones and the bell, and the mixer that plays them."""
