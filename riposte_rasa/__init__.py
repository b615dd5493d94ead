"""Everything of Riposte that imports Rasa (`rasa`, `rasa_sdk`), and nothing else.

Rasa loads these by class path (`credentials.yml`, `config.yml`, `endpoints.yml`):

* `channels/`: the REST, socket.io (web page), Telegram and Signal input channels;
* `nlu/`: the pipeline's components (the facts model, the credentials intent) and the intent
  override they share;
* `tracker_store.py`, `lock_store.py`: the encrypted conversation store and the Redis lock
  store for several Rasa servers;
* `patches.py`: the changes to Rasa's own code paths (`patches.install()`); the stores install
  them when Rasa builds them, so every Rasa server started with `endpoints.yml`, by
  `riposte rasa` or by Rasa's own `rasa run`, gets them;
* `server.py`, `action_server.py`: the launchers of Rasa and of the action server (rasa_sdk),
  run as their own processes by `riposte rasa` and `riposte actions`.

The core package `riposte` never imports this one (tests/core/test_layers.py).
"""
