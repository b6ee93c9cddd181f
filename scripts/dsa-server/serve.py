#!/usr/bin/env python3
"""Local Digital Slide Archive test server: Girder 3 + large_image annotation plugin.

The database is mongomock, held in this process's memory (nothing to install or
clean up, everything is gone when the process ends). The server listens on
127.0.0.1 only. It exists so that histoactive's tests and demo talk to the real
REST API rather than to a mock of it.

    serve.py --port 8765 --data-dir /tmp/histoactive-dsa-8765 [--plugins a,b]
"""
import argparse
import os
import sys

LOOPBACK = '127.0.0.1'


def install_in_memory_database():
    """Swap pymongo's client for mongomock's before Girder opens a connection."""
    import mongomock
    import pymongo

    ignored = {'socketTimeoutMS', 'connectTimeoutMS', 'serverSelectionTimeoutMS',
               'readPreference', 'replicaSet', 'w'}

    class MemoryClient(mongomock.MongoClient):
        def __init__(self, host=None, *args, **kwargs):
            super().__init__(host, *args, **{k: v for k, v in kwargs.items() if k not in ignored})

    pymongo.MongoClient = MemoryClient
    Cursor = mongomock.collection.Cursor
    Collection = mongomock.collection.Collection

    # Girder and the plugins still call the pymongo 3 Cursor.count().
    if not hasattr(Cursor, 'count'):
        Cursor.count = lambda self, with_limit_and_skip=False: len(
            self._compute_results(with_limit_and_skip))

    # mongomock re-slices the result list for each document it yields, which is
    # quadratic; annotations of thousands of elements need a linear read.
    def next_doc(self):
        docs = self._compute_results(with_limit_and_skip=False)
        first = self._skip or 0
        end = len(docs) if not self._limit else min(len(docs), first + abs(self._limit))
        position = first + self._emitted
        if position >= end:
            raise StopIteration()
        self._emitted += 1
        return docs[position]

    Cursor.__next__ = next_doc
    Cursor.next = next_doc

    # distinct() deep-copies every matching document; the annotation plugin runs it
    # over all elements on each save. Reading the stored values is enough.
    from mongomock import filtering, helpers
    from sentinels import NOTHING

    def fast_distinct(self, key, filter=None, session=None):
        seen, values = set(), []
        for doc in self._iter_documents(filter or {}):
            for found in filtering.iter_key_candidates(key, doc):
                if found is NOTHING:
                    continue
                for value in found if isinstance(found, (list, tuple)) else [found]:
                    mark = helpers.hashdict(value) if isinstance(value, dict) else value
                    if mark not in seen:
                        seen.add(mark)
                        values.append(dict(value) if isinstance(value, dict) else value)
        return values

    Collection.distinct = fast_distinct

    # The annotation plugin asks for raw-BSON document classes when reading
    # elements; mongomock only produces dicts, which the plugin handles as well.
    plain_with_options = Collection.with_options

    def with_options(self, codec_options=None, *args, **kwargs):
        if codec_options is not None and getattr(codec_options, 'document_class', dict) is not dict:
            codec_options = codec_options.with_options(document_class=dict)
        return plain_with_options(self, codec_options, *args, **kwargs)

    Collection.with_options = with_options
    install_lookup_stage()


def _path_values(doc, dotted):
    """All values a dotted path reaches, descending into arrays like MongoDB does."""
    level = [doc]
    for part in dotted.split('.'):
        nxt = []
        for value in level:
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, dict) and part in entry:
                    nxt.append(entry[part])
        level = nxt
    flat = []
    for value in level:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def _substitute(node, variables):
    if isinstance(node, str) and node.startswith('$$') and node[2:] in variables:
        return variables[node[2:]]
    if isinstance(node, dict):
        return {k: _substitute(v, variables) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, variables) for v in node]
    return node


def install_lookup_stage():
    """$lookup with array localField paths and with let/pipeline, which the
    annotation plugin's folder queries use and mongomock lacks."""
    import mongomock.aggregate as aggregate

    builtin = aggregate._PIPELINE_HANDLERS['$lookup']

    def lookup(docs, database, spec):
        if 'pipeline' not in spec and '.' not in spec.get('localField', ''):
            return builtin(docs, database, spec)
        other = database.get_collection(spec['from'])
        for doc in docs:
            if 'pipeline' in spec:
                bound = {}
                for name, expr in (spec.get('let') or {}).items():
                    if isinstance(expr, str) and expr.startswith('$') and not expr.startswith('$$'):
                        found = _path_values(doc, expr[1:])
                        bound[name] = found[0] if len(found) == 1 else (found or None)
                    else:
                        bound[name] = expr
                stages = _substitute(spec['pipeline'], bound)
                if 'localField' in spec and 'foreignField' in spec:
                    stages = [{'$match': {spec['foreignField']: {
                        '$in': _path_values(doc, spec['localField'])}}}] + stages
                doc[spec['as']] = list(other.aggregate(stages))
            else:
                doc[spec['as']] = list(other.find(
                    {spec['foreignField']: {'$in': _path_values(doc, spec['localField'])}}))
        return docs

    aggregate._PIPELINE_HANDLERS['$lookup'] = lookup


def register_cursor_types():
    """Girder's REST layer only pages and counts results it recognises as cursors."""
    import mongomock.collection
    import mongomock.command_cursor
    from girder.api import rest

    rest._MONGO_CURSOR_TYPES = tuple(rest._MONGO_CURSOR_TYPES) + (
        mongomock.collection.Cursor, mongomock.command_cursor.CommandCursor)


def configure(port, threads, data_dir):
    import cherrypy
    from girder.utility import config

    settings = config.getConfig()
    settings['database']['uri'] = 'mongodb://%s:27017/girder' % LOOPBACK  # mongomock: never dialled
    settings['database']['replica_set'] = None
    cherrypy.config.update({
        'server.socket_host': LOOPBACK,
        'server.socket_port': port,
        'server.thread_pool': threads,
        'checker.on': False,
    })
    logging = dict(settings.get('logging') or {})
    logging['log_root'] = os.path.join(data_dir, 'logs')
    logging.setdefault('log_access', ['info'])
    settings['logging'] = logging
    settings.setdefault('server', {}).update({'mode': 'production', 'disable_event_daemon': False})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--plugins', default='jobs,large_image,large_image_annotation')
    parser.add_argument('--threads', type=int, default=8)
    args = parser.parse_args()
    data_dir = os.path.abspath(args.data_dir)
    os.makedirs(data_dir, exist_ok=True)

    os.environ.setdefault('LARGE_IMAGE_DOCUMENTDB', 'false')
    install_in_memory_database()
    configure(args.port, args.threads, data_dir)
    register_cursor_types()

    import cherrypy
    from girder import _attachFileLogHandlers
    from girder.models.assetstore import Assetstore
    from girder.utility import server

    _attachFileLogHandlers()
    server.setup('production', plugins=[p for p in args.plugins.split(',') if p])
    if not list(Assetstore().list(limit=1)):
        store = os.path.join(data_dir, 'assetstore')
        os.makedirs(store, exist_ok=True)
        Assetstore().createFilesystemAssetstore(name='local', root=store)
    cherrypy.engine.signal_handler.subscribe()
    cherrypy.engine.start()
    print('histoactive test DSA: http://%s:%d/api/v1' % (LOOPBACK, args.port), flush=True)
    cherrypy.engine.block()


if __name__ == '__main__':
    sys.exit(main())
