# Python 2.7: run with the interpreter of the venv that setup.sh creates.
#
#   .tools/autobahn/venv/bin/python scripts/autobahn/fuzzingserver.py SPEC.json
#
# Starts the real Autobahn fuzzing server (`wstest -m fuzzingserver -s SPEC.json -u 0`,
# which tests WebSocket clients) listening on 127.0.0.1 only. wstest itself binds every
# interface (autobahn-python's listenWS defaults to interface ''), and the project's rule
# is that servers started by its tools listen on the loopback only; so this wrapper gives
# the fuzzing module a listenWS bound to 127.0.0.1 and then hands over to wstest's own
# command line. The embedded web page server stays off (-u 0). Everything else, the
# spec file included, is wstest's.
import sys

from autobahn.twisted import websocket
from autobahntestsuite import fuzzing, wstest


def listen_loopback(factory, contextFactory=None, backlog=50, interface=''):
    return websocket.listenWS(factory, contextFactory, backlog, interface='127.0.0.1')


if len(sys.argv) != 2:
    sys.stderr.write("usage: fuzzingserver.py SPEC.json\n")
    sys.exit(2)
fuzzing.listenWS = listen_loopback
sys.argv = ['wstest', '-m', 'fuzzingserver', '-s', sys.argv[1], '-u', '0']
wstest.run()
