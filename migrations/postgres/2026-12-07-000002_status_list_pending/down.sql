DROP TABLE status_list_pending;
