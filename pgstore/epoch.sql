-- Store.Epoch: when the store's data began (unix seconds), NULL if none.
SELECT (SELECT epoch FROM {{meta}} WHERE id = 1)
