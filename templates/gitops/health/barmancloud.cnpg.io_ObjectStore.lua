-- barman-cloud plugin 0.14 ObjectStore: a configuration the plugin reads, with no state to wait
-- for (its status only records recovery windows).
return {status = "Healthy", message = ""}
